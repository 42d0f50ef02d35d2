import { Type as T } from "@sinclair/typebox";
import type { FastifyBaseLogger, FastifyPluginAsync } from "fastify";
import { type AnalyticsAccess, runAsReader } from "../../analytics/reader/run.ts";
import { assertQuery } from "../../analytics/reader/statement.ts";
import { reports } from "../../analytics/reports/index.ts";
import { validateBody } from "../../calls/apis/validate.ts";
import { GatewayError } from "../../schemas/errors.ts";

const queryBody = T.Object(
  {
    sql: T.String({
      minLength: 1,
      description:
        "one query (SELECT, WITH, SHOW, DESCRIBE, EXPLAIN or EXISTS); {name:Type} placeholders are bound from params",
    }),
    params: T.Optional(T.Record(T.String(), T.Unknown())),
  },
  { additionalProperties: false },
);

const redactBody = T.Object(
  {
    requestId: T.Optional(
      T.String({
        pattern: "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
        description: "one request",
      }),
    ),
    keyId: T.Optional(T.String({ pattern: "^[0-9a-f]{12}$", description: "every request of a gateway key" })),
  },
  { additionalProperties: false },
);

const dayMs = 24 * 60 * 60_000;

/**
 * SQL over the analytics tables for admin keys (registered inside the admin API, which checks the
 * key): POST /admin/analytics/query runs one query as the reader user; GET /admin/analytics/reports
 * lists the named reports and GET /admin/analytics/reports/:name runs one over [from, to)
 * (ISO times; default the last 24 hours). Answers: {columns, rows, elapsedMs}.
 */
export const analyticsAdminRoutes: FastifyPluginAsync<{ access: AnalyticsAccess | undefined }> = async (
  app,
  { access },
) => {
  const run = (
    log: FastifyBaseLogger,
    sql: string,
    params: Record<string, unknown>,
    check?: (sql: string) => void,
  ) => runAsReader(access, "admin SQL", log, sql, params, check);

  app.post("/admin/analytics/query", async (request) => {
    const { sql, params } = validateBody(queryBody, request.body ?? {});
    return run(request.log, sql, params ?? {}, assertQuery);
  });

  // Stored prompts and completions erased after the fact (a user's request to be forgotten).
  app.post("/admin/analytics/redact", async (request) => {
    const scope = validateBody(redactBody, request.body ?? {});
    if ((scope.requestId === undefined) === (scope.keyId === undefined))
      throw new GatewayError("invalid_request", "name either a requestId or a keyId");
    if (!access)
      throw new GatewayError("overloaded", "this gateway process has no ClickHouse (set clickhouse.url)");
    const where = scope.requestId ? "request_id = {id:UUID}" : "key_id = {id:String}";
    await access.owner.command({
      query: `ALTER TABLE requests UPDATE prompt = '[REDACTED]', completion = '[REDACTED]'
              WHERE ${where} AND (prompt != '' OR completion != '')`,
      query_params: { id: scope.requestId ?? scope.keyId },
      clickhouse_settings: { mutations_sync: "1" },
    });
    return { redacted: true };
  });

  app.get("/admin/analytics/reports", async () => ({
    reports: [...reports.values()].map(({ name, description }) => ({ name, description })),
  }));

  app.get<{ Params: { name: string }; Querystring: { from?: string; to?: string } }>(
    "/admin/analytics/reports/:name",
    async (request) => {
      const report = reports.get(request.params.name);
      if (!report)
        throw new GatewayError(
          "not_found",
          `no report is named ${request.params.name}; GET /admin/analytics/reports lists them`,
        );
      const to = timeParam(request.query.to, "to", Date.now());
      const from = timeParam(request.query.from, "from", to - dayMs);
      return {
        report: report.name,
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        ...(await run(request.log, report.sql, { from: from / 1000, to: to / 1000 })),
      };
    },
  );
};

function timeParam(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const ms = Date.parse(value);
  if (Number.isNaN(ms))
    throw new GatewayError("invalid_request", `${name} must be an ISO date or time`, { param: name });
  return ms;
}
