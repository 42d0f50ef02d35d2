import type { GatewayConfig } from "../../config/schema.ts";

/** `analytics.query`: the reader's limits, which its settings profile holds so no query can lift them, and its password. */
export type ReaderOptions = GatewayConfig["analytics"]["query"];

/** The ClickHouse user that admin SQL and the named reports run as: one per gateway database, as users are server-wide. */
export const readerName = (database: string) => `${database}_reader`;

/**
 * What the reader may read: the gateway's database, and the system tables that describe it for
 * schema discovery (ClickHouse shows a user only the rows of tables it may read). Not the server's
 * users, grants, processes, mutations or logs, and no other database.
 */
export const readerGrants = (database: string) => [
  `${database}.*`,
  "system.tables",
  "system.columns",
  "system.parts",
];

/**
 * The reader's settings profile, every setting a constraint (CONST). readonly = 1 alone refuses
 * writes, DDL, SET and any SETTINGS clause, so no query can lift the limits that bound it; the
 * constraints keep them even if a later profile relaxed readonly.
 */
export function readerSettings(limits: ReaderOptions): ReadonlyArray<readonly [string, string | number]> {
  return [
    ["readonly", 1],
    ["max_execution_time", limits.maxExecutionSeconds],
    // Over the limit is an error, never a silently truncated answer.
    ["max_result_rows", limits.maxResultRows],
    ["result_overflow_mode", "throw"],
    ["max_memory_usage", limits.maxMemoryBytes],
    // The answer is complete before it is sent, so a limit hit midway is an error answer, not a cut stream.
    ["http_wait_end_of_query", 1],
    // Money stays exact: decimals as strings, never rounded through a float.
    ["output_format_json_quote_decimals", 1],
    ["output_format_decimal_trailing_zeros", 1],
  ];
}

/** What the gateway's own ClickHouse user needs where SQL manages users: named when a step fails. */
export const readerRights =
  "a ClickHouse user that may read system.user_directories, create and alter users and settings profiles, " +
  "and grant SELECT on its database and on system.tables, system.columns and system.parts " +
  "(docs/analytics.md#admin-sql)";
