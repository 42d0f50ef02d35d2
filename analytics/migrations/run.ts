import type { ClickHouseClient } from "@clickhouse/client";
import type { Logger } from "../../runtime/logger.ts";
import { clickHouseMessage } from "../clickhouse/errors.ts";
import type { Migration } from "./migration.ts";
import { migrations as registry } from "./registry.ts";

/**
 * Brings the database to the newest schema: applies, in order, the migrations not yet recorded
 * in `schema_migrations`. Safe to run from several processes at once: every statement is
 * idempotent and the record table collapses duplicate rows. Says so in one line (each migration
 * at debug).
 */
export async function runMigrations(
  client: ClickHouseClient,
  log: Logger,
  migrations = registry,
): Promise<number[]> {
  const started = performance.now();
  const newlyApplied = await applyMissing(client, log, migrations);
  const version = Math.max(0, ...migrations.map((migration) => migration.id));
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const applied = `${newlyApplied.length} migration${newlyApplied.length === 1 ? "" : "s"} applied in ${seconds} s`;
  log.info(
    `ClickHouse schema at version ${version} ${newlyApplied.length > 0 ? `(${applied})` : "(up to date)"}`,
  );
  return newlyApplied;
}

async function applyMissing(client: ClickHouseClient, log: Logger, migrations: readonly Migration[]) {
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
  const database = await currentDatabase(client);
  const newlyApplied: number[] = [];
  for (const migration of [...migrations].sort((a, b) => a.id - b.id)) {
    if (applied.has(migration.id)) continue;
    const applies = await apply(client, migration, database).catch((error: Error) => {
      throw new MigrationError(migration, error);
    });
    if (!applies) {
      log.debug({ migration: migration.id, name: migration.name }, "analytics migration does not apply here");
      continue;
    }
    await client.insert({
      table: "schema_migrations",
      values: [{ id: migration.id, name: migration.name }],
      format: "JSONEachRow",
    });
    newlyApplied.push(migration.id);
    log.debug({ migration: migration.id, name: migration.name }, "analytics migration applied");
  }
  return newlyApplied;
}

/** Runs a migration's statements; false when it does not apply to this server. */
async function apply(client: ClickHouseClient, migration: Migration, database: string): Promise<boolean> {
  if (migration.shouldApply && !(await migration.shouldApply(client))) return false;
  const statements =
    typeof migration.statements === "function" ? migration.statements(database) : migration.statements;
  for (const statement of statements) await client.command({ query: statement });
  return true;
}

/** A step ClickHouse refused: which one, what it needs of the gateway's user, and ClickHouse's words. */
export class MigrationError extends Error {
  constructor(migration: Migration, cause: Error) {
    const needs = migration.needs ? `; it needs ${migration.needs}` : "";
    super(
      `analytics migration ${migration.id} (${migration.name}) failed${needs}. ClickHouse said: ${clickHouseMessage(cause)}`,
    );
    this.name = "MigrationError";
  }
}

async function currentDatabase(client: ClickHouseClient): Promise<string> {
  const result = await client.query({ query: "SELECT currentDatabase() AS name", format: "JSONEachRow" });
  const [row] = await result.json<{ name: string }>();
  return row?.name ?? "default";
}

export type { Migration };
