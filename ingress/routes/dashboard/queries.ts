import type { FastifyPluginAsync } from "fastify";
import { dashboardQueries } from "../../../analytics/dashboard/index.ts";
import type { QueryResult } from "../../../analytics/reader/query.ts";
import { type AnalyticsAccess, runAsReader } from "../../../analytics/reader/run.ts";
import { GatewayError } from "../../../schemas/errors.ts";
import { authenticateDashboard } from "./session.ts";

const hourMs = 60 * 60_000;
const maxLimit = 1000;

/** A time as a ClickHouse DateTime64(3) parameter reads it, in UTC. */
const clickhouseTime = (ms: number) => new Date(ms).toISOString().replace("T", " ").replace("Z", "");

/**
 * The value of each parameter a query takes: the request's, else its default (empty, zero, the
 * last hour, the first page). A time may be ISO or milliseconds since the epoch.
 */
function paramsOf(query: Record<string, string | undefined>, params: ReadonlyMap<string, string>) {
  const now = Date.now();
  const defaults: Record<string, string> = {
    from: clickhouseTime(now - hourMs),
    to: clickhouseTime(now + 60_000),
    before_at: "2100-01-01 00:00:00.000",
    before_id: "~",
    limit: "100",
    step: "60",
  };
  const values: Record<string, string> = {};
  for (const [name, type] of params) {
    const given = query[name];
    if (given === undefined || given === "") {
      values[name] = defaults[name] ?? (type === "String" ? "" : "0");
    } else if (type.startsWith("DateTime64")) {
      const ms = /^\d+$/.test(given) ? Number(given) : Date.parse(given);
      if (Number.isNaN(ms)) throw new GatewayError("invalid_request", `${name}: not a time`, { param: name });
      values[name] = clickhouseTime(ms);
    } else {
      values[name] = given;
    }
  }
  if (values.limit !== undefined) values.limit = String(Math.min(maxLimit, Number(values.limit) || 100));
  return values;
}

/**
 * GET /ui/api/queries/:name: one of the dashboard's queries (analytics/dashboard/), run as the
 * reader user — the same read-only layer as admin SQL — with the request's parameters bound by
 * ClickHouse. A team's session is held to its team; an admin may pick one (`team`) or see all.
 * `format=csv` answers the rows as a CSV file instead of JSON (the Spend view's export).
 */
export const dashboardQueryRoutes: FastifyPluginAsync<{ access: AnalyticsAccess | undefined }> = async (
  app,
  { access },
) => {
  app.get("/ui/api/queries/:name", async (request, reply) => {
    const caller = authenticateDashboard(app, request);
    const query = dashboardQueries.get((request.params as { name: string }).name);
    if (!query) throw new GatewayError("not_found", "no such dashboard query");
    if (query.adminOnly && !caller.admin)
      throw new GatewayError("permission", "this dashboard query is for admin sessions only");
    const given = request.query as Record<string, string | undefined>;
    const team = caller.admin ? (given.team ?? "") : (caller.team ?? "");
    if (!caller.admin && team === "") throw new GatewayError("permission", "this key belongs to no team");
    const result = await runAsReader(access, "dashboard query", request.log, query.sql, {
      ...paramsOf(given, query.params),
      team,
    });
    if (given.format !== "csv") return result;
    return reply
      .type("text/csv; charset=utf-8")
      .header("content-disposition", `attachment; filename="${query.name}.csv"`)
      .send(csvOf(result));
  });
};

/**
 * A result as CSV (RFC 4180): a header of column names, every field quoted, quotes doubled. A text
 * that a spreadsheet would run as a formula (=, +, -, @ … and not a number) is led by a quote mark:
 * names in the rows are chosen by users.
 */
export function csvOf(result: QueryResult): string {
  const field = (value: unknown) => {
    let text =
      value === null || value === undefined
        ? ""
        : typeof value === "object"
          ? JSON.stringify(value)
          : String(value);
    if (/^[=+\-@\t\r]/.test(text) && Number.isNaN(Number(text))) text = `'${text}`;
    return `"${text.replaceAll('"', '""')}"`;
  };
  const names = result.columns.map((column) => column.name);
  return [names.map(field), ...result.rows.map((row) => names.map((name) => field(row[name])))]
    .map((fields) => `${fields.join(",")}\r\n`)
    .join("");
}
