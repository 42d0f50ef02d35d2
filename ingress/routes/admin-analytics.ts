import { type ClickHouseClient, ClickHouseError } from "@clickhouse/client";
import { Type as T } from "@sinclair/typebox";
import type { FastifyBaseLogger, FastifyPluginAsync } from "fastify";
import { clickHouseMessage } from "../../analytics/clickhouse/errors.ts";
import type { Reader } from "../../analytics/reader/connect.ts";
import { readerQuery } from "../../analytics/reader/query.ts";
import { assertQuery, StatementRefused } from "../../analytics/reader/statement.ts";
import { reports } from "../../analytics/reports/index.ts";
import { validateBody } from "../../calls/apis/validate.ts";
import { GatewayError } from "../../schemas/errors.ts";

/** How the admin analytics API reaches ClickHouse; absent where this process cannot. */
export interface AnalyticsAccess {
  /** The gateway's own ClickHouse user: erasing stored text is a mutation. */
  owner: ClickHouseClient;
  /** The read-only user that admin SQL and the named reports run as. */
  reader: Reader;
}

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
  const run = async (
    log: FastifyBaseLogger,
    sql: string,
    params: Record<string, unknown>,
    check?: (sql: string) => void,
  ) => {
    if (!access)
      throw new GatewayError(
        "overloaded",
        "this gateway process has no ClickHouse to query (set clickhouse.url)",
      );
    const { reader } = access;
    try {
      if ("unavailable" in reader) throw new ReaderUnavailable(reader.unavailable);
      check?.(sql);
      return await readerQuery(reader.client, sql, params);
    } catch (error) {
      const { answer, reason } = failure(error, reader);
      // One line, without the stack: a refusal is the admin's mistake; the 503s are the operator's to fix.
      if (answer.status < 500) log.info({ status: answer.status, reason }, "admin SQL refused");
      else log.warn({ status: answer.status, reason, error: answer.message }, "admin SQL unavailable");
      throw answer;
    }
  };

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

/** This process cannot log in as the reader, and why. */
class ReaderUnavailable extends Error {}

/** Why an admin query failed, as the caller's error, with the reason logged beside it. */
function failure(error: unknown, reader: Reader): { answer: GatewayError; reason: string } {
  if (error instanceof StatementRefused)
    return { answer: new GatewayError("invalid_request", error.message), reason: error.keyword };
  if (error instanceof ReaderUnavailable)
    return { answer: new GatewayError("overloaded", error.message), reason: "no password" };
  if (error instanceof ClickHouseError && error.type === "AUTHENTICATION_FAILED")
    return {
      answer: new GatewayError(
        "overloaded",
        `admin SQL runs as the ClickHouse user ${reader.username}, and ClickHouse refused its login: give ` +
          "every process the same analytics.query.password, or define the user where this ClickHouse keeps " +
          "its users (docs/analytics.md#admin-sql)",
      ),
      reason: error.type,
    };
  // ClickHouse's own words: what was refused or wrong in the SQL (an admin's query, not a secret).
  if (error instanceof ClickHouseError)
    return {
      answer: new GatewayError("invalid_request", `the query failed: ${clickHouseMessage(error)}`),
      reason: error.type ?? `code ${error.code}`,
    };
  return {
    answer: new GatewayError("overloaded", `ClickHouse did not answer: ${(error as Error).message}`),
    reason: "unreachable",
  };
}
