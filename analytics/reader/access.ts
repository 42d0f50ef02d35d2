import { createHash } from "node:crypto";
import type { ClickHouseClient } from "@clickhouse/client";
import type { Logger } from "../../runtime/logger.ts";
import { clickHouseMessage } from "../clickhouse/errors.ts";
import { type ReaderOptions, readerGrants, readerName, readerRights, readerSettings } from "./user.ts";

/**
 * Whether this ClickHouse keeps users where SQL can create them. The embedded ClickHouse cannot:
 * `clickhouse local` only ever reads users from a users.xml (CREATE USER answers "no writeable
 * access storage"), so its reader is written there instead (users-xml.ts).
 */
export async function keepsUsersInSql(client: ClickHouseClient): Promise<boolean> {
  const result = await client.query({
    query: `SELECT count() AS n FROM system.user_directories
            WHERE type IN ('local_directory', 'replicated', 'memory')`,
    format: "JSONEachRow",
  });
  const [row] = await result.json<{ n: number | string }>();
  return Number(row?.n) > 0;
}

/**
 * Brings the reader user (created by migration 0012) to this release and this configuration at
 * every start, as retention does: its grants (replacing any others), its profile's limits, and its
 * password when one is configured. Where ClickHouse keeps users in config files there is nothing to do.
 */
export async function applyReaderAccess(
  client: ClickHouseClient,
  database: string,
  options: ReaderOptions,
  log: Logger,
): Promise<void> {
  if (!(await keepsUsersInSql(client))) return;
  const name = readerName(database);
  const settings = readerSettings(options).map(([setting, value]) => `${setting} = ${sqlValue(value)} CONST`);
  const statements = [
    `ALTER SETTINGS PROFILE ${name} SETTINGS ${settings.join(", ")}`,
    `GRANT ${readerGrants(database)
      .map((on) => `SELECT ON ${on}`)
      .join(", ")} TO ${name} WITH REPLACE OPTION`,
  ];
  // Only the hash travels: ClickHouse never sees the password itself.
  if (options.password)
    statements.push(`ALTER USER ${name} IDENTIFIED WITH sha256_hash BY '${sha256Hex(options.password)}'`);
  else
    log.warn(
      { user: name },
      "admin SQL is off until analytics.query.password (CLICKHOUSE_READER_PASSWORD) is set on the sink and the ingress",
    );
  for (const statement of statements)
    await client.command({ query: statement }).catch((error: Error) => {
      throw new Error(
        `the admin SQL user ${name} could not be set up; it needs ${readerRights}. ClickHouse said: ${clickHouseMessage(error)}`,
      );
    });
}

export const sha256Hex = (text: string) => createHash("sha256").update(text).digest("hex");

const sqlValue = (value: string | number) => (typeof value === "number" ? String(value) : `'${value}'`);
