import { type ClickHouseClient, ClickHouseLogLevel, createClient } from "@clickhouse/client";
import { readerName } from "./user.ts";

/** The reader user, and its client or why this process has none. */
export type Reader = { readonly username: string } & (
  | { readonly client: ClickHouseClient }
  | { readonly unavailable: string }
);

export function connectReader(url: string, database: string, password: string): Reader {
  const username = readerName(database);
  if (!password)
    return {
      username,
      unavailable:
        `admin SQL runs as the ClickHouse user ${username}, and this process has no password for it: ` +
        "set analytics.query.password (CLICKHOUSE_READER_PASSWORD) here and on the sink (docs/analytics.md#admin-sql)",
    };
  return {
    username,
    // The client's own logger is off: it would print a refused query's stack trace on the console,
    // while a refusal is the admin's to read in the answer, and the route logs it once.
    client: createClient({ url, username, password, database, log: { level: ClickHouseLogLevel.OFF } }),
  };
}
