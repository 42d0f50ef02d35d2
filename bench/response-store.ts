import { randomBytes, randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { type ClickHouseClient, createClient } from "@clickhouse/client";
import { createRedisResponseStore } from "../calls/stored-responses/redis-store.ts";
import type { ResponseStore, StoredResponse } from "../calls/stored-responses/store.ts";
import { parseConfig } from "../config/load.ts";
import { connectRedis } from "../runtime/redis.ts";
import { provisionServices } from "../test/services/provision.ts";
import { ms, summary } from "./stats.ts";

/**
 * `npm run bench:responses [-- --conversations 20 --turns 20 --kb 4]`: where stored responses
 * should live, Redis or ClickHouse. Each turn of a conversation does what a chained Responses call
 * does: read the previous response, read the earlier ones of its conversation, then write the new
 * response (its input and output, `--kb` KB together). `--conversations` run side by side, each
 * turn after the one before. Reported per backend: one turn's store time (read + write), p50 and
 * p99, and turns per second overall. Redis is the gateway's own store; the ClickHouse store is
 * written here only to be measured against it (a MergeTree keyed by tenant and id, inserts waited
 * for so that the next turn can read them).
 */
const { values: args } = parseArgs({
  options: {
    conversations: { type: "string", default: "20" },
    turns: { type: "string", default: "20" },
    kb: { type: "string", default: "4" },
  },
});
const conversations = Number(args.conversations);
const turns = Number(args.turns);
const halfText = "x".repeat((Number(args.kb) * 1024) / 2);

const services = await provisionServices();
try {
  const config = parseConfig(
    JSON.stringify({
      redis: { url: services.endpoints.redis.url, keyPrefix: `bench-${randomUUID().slice(0, 8)}:` },
    }),
    "bench",
    {},
  );
  const redis = await connectRedis(config.redis);
  const clickhouse = createClient({
    url: services.endpoints.clickhouse.url,
    username: services.endpoints.clickhouse.username,
    password: services.endpoints.clickhouse.password,
  });
  const backends: Array<[string, ResponseStore]> = [
    ["Redis", createRedisResponseStore(redis, 86_400_000)],
    ["ClickHouse", await clickHouseStore(clickhouse)],
  ];
  process.stdout.write(`${conversations} conversations × ${turns} turns, ${args.kb} KB per turn\n`);
  for (const [name, store] of backends) {
    const started = performance.now();
    const perTurn = (await Promise.all(Array.from({ length: conversations }, () => converse(store)))).flat();
    const seconds = (performance.now() - started) / 1000;
    const { n, p50, p99 } = summary(perTurn);
    process.stdout.write(
      `${name}: n=${n} turn (read previous + earlier, write new) p50 ${ms(p50)} ms, p99 ${ms(p99)} ms; ${(n / seconds).toFixed(0)} turns/s\n`,
    );
  }
  for (const [, store] of backends) await store.close();
  redis.disconnect();
  await clickhouse.close();
} finally {
  await services.stop();
}

/** One conversation's turns, each timed: the store work a chained call does. */
async function converse(store: ResponseStore): Promise<number[]> {
  const tenant = `team:${randomUUID()}`;
  const timings: number[] = [];
  let previous: string | undefined;
  for (let turn = 0; turn < turns; turn++) {
    const started = performance.now();
    let earlier: string[] = [];
    if (previous) {
      const [record] = await store.get(tenant, [previous]);
      if (!record) throw new Error(`response ${previous} was not read back`);
      const chain = await store.get(tenant, record.earlier);
      if (chain.some((response) => response === undefined)) throw new Error("an earlier response is missing");
      earlier = [...record.earlier, record.id];
    }
    const next = response(tenant, earlier);
    await store.put(next);
    timings.push(performance.now() - started);
    previous = next.id;
  }
  return timings;
}

function response(tenant: string, earlier: string[]): StoredResponse {
  const id = `resp_${randomBytes(16).toString("hex")}`;
  const item = (type: string, role: string) => ({
    id: `msg_${randomBytes(16).toString("hex")}`,
    type,
    role,
    content: [{ type: role === "user" ? "input_text" : "output_text", text: halfText }],
  });
  return {
    id,
    tenant,
    response: { id, object: "response", status: "completed", output: [item("message", "assistant")] },
    input: [item("message", "user")],
    earlier,
  };
}

/** The same store on ClickHouse, for comparison only. */
async function clickHouseStore(client: ClickHouseClient): Promise<ResponseStore> {
  const table = `bench_responses_${randomUUID().slice(0, 8)}`;
  await client.command({
    query: `CREATE TABLE ${table} (tenant String, id String, body String) ENGINE = MergeTree ORDER BY (tenant, id)`,
  });
  const store: ResponseStore = {
    async put(record) {
      await client.insert({
        table,
        values: [{ tenant: record.tenant, id: record.id, body: JSON.stringify(record) }],
        format: "JSONEachRow",
      });
    },
    async get(tenant, ids) {
      if (ids.length === 0) return [];
      const result = await client.query({
        query: `SELECT id, body FROM ${table} WHERE tenant = {tenant:String} AND id IN {ids:Array(String)}`,
        query_params: { tenant, ids },
        format: "JSONEachRow",
      });
      const rows = new Map(
        (await result.json<{ id: string; body: string }>()).map((row) => [row.id, row.body]),
      );
      return ids.map((id) => {
        const body = rows.get(id);
        return body === undefined ? undefined : (JSON.parse(body) as StoredResponse);
      });
    },
    async delete(tenant, id) {
      const [found] = await store.get(tenant, [id]);
      const query = `DELETE FROM ${table} WHERE tenant = {tenant:String} AND id = {id:String}`;
      await client.command({ query, query_params: { tenant, id } });
      return found !== undefined;
    },
    async close() {
      await client.command({ query: `DROP TABLE ${table}` });
    },
  };
  return store;
}
