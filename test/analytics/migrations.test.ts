import { randomUUID } from "node:crypto";
import { createClient } from "@clickhouse/client";
import { pino } from "pino";
import { afterAll, describe, expect, inject, it } from "vitest";
import { batchId } from "../../analytics/migrations/0010-batch-id.ts";
import { readerUser } from "../../analytics/migrations/0012-reader-user.ts";
import { migrations } from "../../analytics/migrations/registry.ts";
import { runMigrations } from "../../analytics/migrations/run.ts";
import { keepsUsersInSql } from "../../analytics/reader/access.ts";

const endpoint = inject("services").clickhouse;
const database = `test_migrations_${randomUUID().slice(0, 8)}`;
const admin = createClient({ url: endpoint.url, username: endpoint.username, password: endpoint.password });
const client = createClient({
  url: endpoint.url,
  username: endpoint.username,
  password: endpoint.password,
  database,
});
/** Whether this run's ClickHouse keeps users where SQL can create them (0012 applies only there). */
const sqlUsers = await keepsUsersInSql(admin);
afterAll(async () => {
  await admin.command({ query: `DROP DATABASE IF EXISTS ${database}` });
  if (sqlUsers) {
    await admin.command({ query: `DROP USER IF EXISTS ${database}_reader` });
    await admin.command({ query: `DROP SETTINGS PROFILE IF EXISTS ${database}_reader` });
  }
  await Promise.all([admin.close(), client.close()]);
});

describe("analytics migrations", () => {
  it("are numbered 1, 2, 3 … without gaps, so their order is unambiguous", () => {
    expect(migrations.map((migration) => migration.id)).toEqual(migrations.map((_, index) => index + 1));
  });

  it("apply once, record themselves, and apply nothing the second time, even run side by side", async () => {
    await admin.command({ query: `CREATE DATABASE ${database}` });
    const log = pino({ level: "silent" });
    const [first, second] = await Promise.all([runMigrations(client, log), runMigrations(client, log)]);
    const applying = migrations.filter((migration) => sqlUsers || migration !== readerUser);
    expect([...first, ...second].sort()).toEqual(
      expect.arrayContaining(applying.map((migration) => migration.id)),
    );
    expect(await runMigrations(client, log)).toEqual([]);
    const tables = await client.query({
      query: "SELECT name, engine FROM system.tables WHERE database = {database:String} ORDER BY name",
      query_params: { database },
      format: "JSONEachRow",
    });
    expect(await tables.json()).toEqual([
      { name: "attempts", engine: "ReplacingMergeTree" },
      { name: "audit_log", engine: "ReplacingMergeTree" },
      { name: "requests", engine: "ReplacingMergeTree" },
      { name: "requests_per_minute", engine: "AggregatingMergeTree" },
      { name: "requests_per_minute_mv", engine: "MaterializedView" },
      { name: "schema_migrations", engine: "ReplacingMergeTree" },
    ]);
  });

  it("0010 gives attempts and requests a batch_id, '' by default, with a bloom filter; run again, it changes nothing", async () => {
    const schema = async () => {
      const columns = await client.query({
        query: `SELECT table, name, type, default_kind, default_expression FROM system.columns
                WHERE database = {database:String} AND name = 'batch_id' ORDER BY table`,
        query_params: { database },
        format: "JSONEachRow",
      });
      const indexes = await client.query({
        query: `SELECT table, name, type, expr FROM system.data_skipping_indices
                WHERE database = {database:String} AND name = 'batch_id_bloom' ORDER BY table`,
        query_params: { database },
        format: "JSONEachRow",
      });
      return { columns: await columns.json(), indexes: await indexes.json() };
    };
    const expected = {
      columns: ["attempts", "requests"].map((table) => ({
        table,
        name: "batch_id",
        type: "String",
        default_kind: "DEFAULT",
        default_expression: "''",
      })),
      indexes: ["attempts", "requests"].map((table) => ({
        table,
        name: "batch_id_bloom",
        type: "bloom_filter",
        expr: "batch_id",
      })),
    };
    expect(await schema()).toEqual(expected);
    // A step interrupted halfway runs again from its first statement: each must be a no-op the second time.
    if (typeof batchId.statements === "function") throw new Error("0010 names no database");
    for (const statement of batchId.statements) await client.command({ query: statement });
    expect(await schema()).toEqual(expected);
  });

  it.runIf(!sqlUsers)(
    "0012 does not apply where ClickHouse keeps users in config files, and is asked again at the next start",
    async () => {
      const recorded = await client.query({
        query: "SELECT count() AS n FROM schema_migrations WHERE id = 12",
        format: "JSONEachRow",
      });
      expect(await recorded.json()).toEqual([{ n: 0 }]);
      // The statements it would run there are refused for want of a writable access storage.
      if (typeof readerUser.statements !== "function") throw new Error("0012 names its database");
      const [createProfile] = readerUser.statements(database);
      await expect(client.command({ query: createProfile as string })).rejects.toMatchObject({
        type: "ACCESS_STORAGE_FOR_INSERTION_NOT_FOUND",
      });
    },
  );

  it.runIf(sqlUsers)(
    "0012 creates the reader user, unable to log in until a start sets its password",
    async () => {
      const users = await admin.query({
        query: "SELECT name, auth_type FROM system.users WHERE name = {name:String}",
        query_params: { name: `${database}_reader` },
        format: "JSONEachRow",
      });
      const [user] = await users.json<{ name: string; auth_type: unknown }>();
      expect(user?.name).toBe(`${database}_reader`);
      expect(JSON.stringify(user?.auth_type)).toContain("sha256_password");
      // Run again (a step interrupted halfway), it changes nothing.
      if (typeof readerUser.statements !== "function") throw new Error("0012 names its database");
      for (const statement of readerUser.statements(database)) await client.command({ query: statement });
    },
  );

  it("names the step, what it needs and ClickHouse's words when ClickHouse refuses it", async () => {
    const broken = { id: 99, name: "broken", needs: "nothing ClickHouse can give", statements: ["SELEC 1"] };
    await expect(runMigrations(client, pino({ level: "silent" }), [broken])).rejects.toThrow(
      /^analytics migration 99 \(broken\) failed; it needs nothing ClickHouse can give\. ClickHouse said: Syntax error: .* \(SYNTAX_ERROR\)$/,
    );
  });
});
