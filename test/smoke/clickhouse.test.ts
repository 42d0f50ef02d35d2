import { randomUUID } from "node:crypto";
import { createClient } from "@clickhouse/client";
import { afterAll, describe, expect, inject, it } from "vitest";

const endpoint = inject("services").clickhouse;
const client = createClient({ url: endpoint.url, username: endpoint.username, password: endpoint.password });
afterAll(() => client.close());

describe("ClickHouse", () => {
  it("creates a MergeTree table, takes concurrent inserts and answers a parameterised query", async () => {
    const table = `smoke_${randomUUID().replaceAll("-", "")}`;
    await client.command({
      query: `CREATE TABLE ${table} (
        at DateTime64(3, 'UTC'),
        tenant LowCardinality(String),
        tokens UInt32,
        cost Decimal(18, 9),
        tags Map(String, String)
      ) ENGINE = MergeTree PARTITION BY toDate(at) ORDER BY (tenant, at)`,
    });
    const batches = Array.from({ length: 10 }, (_, batch) =>
      Array.from({ length: 100 }, (_, row) => ({
        at: `2026-11-28 10:00:00.${String(row).padStart(3, "0")}`,
        tenant: batch % 2 === 0 ? "alpha" : "beta",
        tokens: row,
        cost: "0.000001234",
        tags: { batch: String(batch) },
      })),
    );
    await Promise.all(batches.map((values) => client.insert({ table, values, format: "JSONEachRow" })));

    const result = await client.query({
      query: `SELECT toUInt32(count()) AS rows, toUInt32(sum(tokens)) AS tokens, toString(sum(cost)) AS cost,
                     toUInt32(uniqExact(tags['batch'])) AS batches
              FROM ${table} WHERE tenant = {tenant:String}`,
      query_params: { tenant: "alpha" },
      format: "JSONEachRow",
    });
    expect(await result.json()).toEqual([{ rows: 500, tokens: 24750, cost: "0.000617", batches: 5 }]);

    const engine = await client.query({
      query:
        "SELECT engine, toUInt32(splitByChar('.', version())[1]) AS major FROM system.tables WHERE name = {table:String}",
      query_params: { table },
      format: "JSONEachRow",
    });
    const [row] = await engine.json<{ engine: string; major: number }>();
    expect(row?.engine).toBe("MergeTree");
    expect(row?.major).toBeGreaterThanOrEqual(24);
    await client.command({ query: `DROP TABLE ${table}` });
  });
});
