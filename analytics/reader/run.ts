import { type ClickHouseClient, ClickHouseError } from "@clickhouse/client";
import type { Logger } from "../../runtime/logger.ts";
import { GatewayError } from "../../schemas/errors.ts";
import { clickHouseMessage } from "../clickhouse/errors.ts";
import type { Reader } from "./connect.ts";
import { type QueryResult, readerQuery } from "./query.ts";
import { StatementRefused } from "./statement.ts";

/** How the admin analytics API reaches ClickHouse; absent where this process cannot. */
export interface AnalyticsAccess {
  /** The gateway's own ClickHouse user: erasing stored text is a mutation. */
  owner: ClickHouseClient;
  /** The read-only user that admin SQL and the named reports run as. */
  reader: Reader;
}

/**
 * One query as the reader user, for the admin SQL endpoint, the named reports and the dashboard:
 * every failure becomes the caller's error — ClickHouse's one-line message as a 400, a reader that
 * cannot log in or a ClickHouse that does not answer as a 503 saying what to fix — logged as one line.
 */
export async function runAsReader(
  access: AnalyticsAccess | undefined,
  /** What runs it, in the log lines: "admin SQL", "dashboard query". */
  what: string,
  log: Pick<Logger, "info" | "warn">,
  sql: string,
  params: Record<string, unknown>,
  check?: (sql: string) => void,
): Promise<QueryResult> {
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
    if (answer.status < 500) log.info({ status: answer.status, reason }, `${what} refused`);
    else log.warn({ status: answer.status, reason, error: answer.message }, `${what} unavailable`);
    throw answer;
  }
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
