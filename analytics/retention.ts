import type { ClickHouseClient } from "@clickhouse/client";
import type { GatewayConfig } from "../config/schema.ts";
import type { Logger } from "../runtime/logger.ts";

/**
 * Sets each table's TTL to the configured retention (config, not a migration: operators change
 * it without a release). Parts already written are not rewritten at once
 * (`materialize_ttl_after_modify = 0`): ClickHouse drops expired rows as it merges.
 */
export async function applyRetention(
  client: ClickHouseClient,
  retention: Pick<GatewayConfig["analytics"], "retentionDays" | "rollupRetentionDays" | "auditRetentionDays">,
  log: Logger,
): Promise<void> {
  const tables = [
    { table: "requests", time: "received_at", days: retention.retentionDays },
    { table: "attempts", time: "finished_at", days: retention.retentionDays },
    { table: "requests_per_minute", time: "minute", days: retention.rollupRetentionDays },
    { table: "audit_log", time: "at", days: retention.auditRetentionDays },
  ];
  for (const { table, time, days } of tables) {
    const expression = `toDateTime(${time}) + toIntervalDay(${days})`;
    const current = await currentTtl(client, table);
    if (days > 0 && current !== expression) {
      await client.command({
        query: `ALTER TABLE ${table} MODIFY TTL ${expression}`,
        clickhouse_settings: { materialize_ttl_after_modify: 0 },
      });
      log.info({ table, days }, "analytics retention set");
    } else if (days === 0 && current !== undefined) {
      await client.command({ query: `ALTER TABLE ${table} REMOVE TTL` });
      log.info({ table }, "analytics retention removed: rows are kept for ever");
    }
  }
}

/** The table's TTL expression as ClickHouse prints it back, if it has one. */
async function currentTtl(client: ClickHouseClient, table: string): Promise<string | undefined> {
  const result = await client.query({
    query:
      "SELECT create_table_query FROM system.tables WHERE database = currentDatabase() AND name = {table:String}",
    query_params: { table },
    format: "JSONEachRow",
  });
  const [row] = await result.json<{ create_table_query: string }>();
  return /\bTTL (.+?)(?: SETTINGS |$)/.exec(row?.create_table_query ?? "")?.[1]?.trim();
}
