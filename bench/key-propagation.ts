import { randomBytes, randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { pino } from "pino";
import { parseConfig } from "../config/load.ts";
import { createKafkaKeyStore } from "../governance/keys/kafka-store.ts";
import type { KeyRecord } from "../schemas/governance-record.ts";
import { provisionServices } from "../test/services/provision.ts";
import { ms, summary } from "./stats.ts";

/**
 * `npm run bench:keys [-- --count 50]`: how long a key change takes to
 * reach another process's view on Kafka. Two key stores on one topic stand for two processes;
 * they share a process, so both ends read one clock. Each change is timed from its putKey call
 * to the writer's own view (the write resolving) and to the other store's view; changes are
 * spaced so that none shares a fetch with the one before.
 */
const { values: args } = parseArgs({ options: { count: { type: "string", default: "50" } } });
const count = Number(args.count);
const services = await provisionServices();
try {
  const config = parseConfig(
    JSON.stringify({
      kafka: { brokers: services.endpoints.kafka.brokers, topicPrefix: `bench-${randomUUID().slice(0, 8)}.` },
      redis: { url: services.endpoints.redis.url },
    }),
    "bench",
    {},
  );
  const log = pino({ level: "warn" });
  const [writer, reader] = [createKafkaKeyStore(config.kafka, log), createKafkaKeyStore(config.kafka, log)];
  await Promise.all([writer.start(), reader.start()]);
  const own: number[] = [];
  const other: number[] = [];
  for (let change = 0; change < count; change++) {
    const key = changedKey(change);
    const started = performance.now();
    const written = writer.putKey(key).then(() => own.push(performance.now() - started));
    while (reader.keyByHash(key.hash) === undefined) await new Promise((resolve) => setImmediate(resolve));
    other.push(performance.now() - started);
    await written;
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  await Promise.all([writer.close(), reader.close()]);
  for (const [name, samples] of [
    ["writer's own view (putKey resolved)", own],
    ["other process's view", other],
  ] as const) {
    const { n, p50, p90, p99 } = summary(samples);
    process.stdout.write(`${name}: n=${n} p50 ${ms(p50)} ms, p90 ${ms(p90)} ms, p99 ${ms(p99)} ms\n`);
  }
} finally {
  await services.stop();
}

/** One key, rotated to a new hash at each change, so the reader can tell each change's arrival. */
function changedKey(change: number): KeyRecord {
  return {
    id: "key-bench",
    hash: randomBytes(32).toString("hex"),
    prefix: "sk-gw-be",
    name: null,
    team: "team-bench",
    user: null,
    models: null,
    apis: null,
    priority: null,
    tags: {},
    metadata: {},
    budget: null,
    rateLimits: null,
    limits: null,
    expiresAtMs: null,
    revokedAtMs: null,
    previousHash: null,
    previousHashExpiresAtMs: null,
    createdAtMs: 0,
    updatedAtMs: change,
  };
}
