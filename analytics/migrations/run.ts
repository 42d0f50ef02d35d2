import type { ClickHouseClient } from "@clickhouse/client";
import type { Logger } from "../../runtime/logger.ts";
import type { Migration } from "./migration.ts";
import { migrations as registry } from "./registry.ts";

/**
 * Brings the database to the newest schema: applies, in order, the migrations not yet recorded
 * in `schema_migrations`. Safe to run from several processes at once: every statement is
 * idempotent and the record table collapses duplicate rows.
 */
export async function runMigrations(
  client: ClickHouseClient,
  log: Logger,
  migrations = registry,
): Promise<number[]> {
  await client.command({
    query: `CREATE TABLE IF NOT EXISTS schema_migrations (
      id UInt32, name String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
    ) ENGINE = ReplacingMergeTree ORDER BY id`,
  });
  const result = await client.query({
    query: "SELECT DISTINCT id FROM schema_migrations",
    format: "JSONEachRow",
  });
  const applied = new Set((await result.json<{ id: number }>()).map((row) => Number(row.id)));
  const newlyApplied: number[] = [];
  for (const migration of [...migrations].sort((a, b) => a.id - b.id)) {
    if (applied.has(migration.id)) continue;
    for (const statement of migration.statements) await client.command({ query: statement });
    await client.insert({
      table: "schema_migrations",
      values: [{ id: migration.id, name: migration.name }],
      format: "JSONEachRow",
    });
    newlyApplied.push(migration.id);
    log.info({ migration: migration.id, name: migration.name }, "analytics migration applied");
  }
  return newlyApplied;
}

export type { Migration };
