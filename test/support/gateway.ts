import { randomUUID } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ClickHouseClient, createClient } from "@clickhouse/client";
import { pino } from "pino";
import { inject } from "vitest";
import { type RunningGateway, startGateway } from "../../app/gateway.ts";
import type { Role } from "../../app/roles.ts";
import { parseConfig } from "../../config/load.ts";
import type { GatewayConfig } from "../../config/schema.ts";

export type BusKind = "in-process" | "kafka";
export const busKinds: BusKind[] = ["in-process", "kafka"];
export const testKey = "test-key-0123456789";
/** The admin API's key of every test gateway (auth.masterKey). */
export const masterKey = "master-key-0123456789";

/**
 * The configuration of a gateway under test: the real services of this run, a bus of the given
 * kind with topics and keys of its own (so test files never see each other's traffic), and
 * `overrides` as a YAML/JSON fragment over the documented defaults.
 */
export function testConfig(bus: BusKind, overrides: Record<string, unknown> = {}, namespace?: string) {
  return parseConfig(JSON.stringify(testSettings(bus, overrides, namespace)), "test", {});
}

/** The same settings as a plain object, for the configuration file of a gateway in another process. */
export function testSettings(
  bus: BusKind,
  overrides: Record<string, unknown> = {},
  namespace = randomUUID().slice(0, 8),
): Record<string, unknown> {
  const services = inject("services");
  const base = {
    server: { host: "127.0.0.1", port: 0, shutdownGraceMs: 2000 },
    auth: {
      keys: [testKey, { key: "batch-key-0123456789", name: "nightly", priority: "batch" }],
      masterKey,
    },
    log: { level: process.env.TEST_LOG_LEVEL ?? "silent" },
    // Most suites script provider failures to see how each is reported: one call each, no breaker
    // remembering them for the next test. test/routing/ turns both back on.
    routing: { maxAttempts: 1, circuitBreakers: false },
    // Tests read back in analytics what they just did: events stored within a quarter second, not
    // the default five (which saves ClickHouse's CPU under load, not a test's time).
    analytics: { sink: { maxWaitMs: 250 } },
    kafka:
      bus === "kafka"
        ? { brokers: services.kafka.brokers, topicPrefix: `test-${namespace}.`, partitions: 4 }
        : {},
    redis: bus === "kafka" ? { url: services.redis.url, keyPrefix: `test-${namespace}:` } : {},
    // Files and batches on disk (without Redis): a directory of this gateway's own.
    batches: { directory: join(tmpdir(), `gateway-batches-${namespace}`) },
    // Stored responses on disk (without Redis): a directory of this gateway's own.
    responses: { directory: join(tmpdir(), `gateway-responses-${namespace}`) },
    // Keys and teams on disk (without Kafka): a log of this gateway's own.
    governance: { directory: join(tmpdir(), `gateway-governance-${namespace}`) },
    clickhouse: {
      url: services.clickhouse.url,
      username: services.clickhouse.username,
      password: services.clickhouse.password,
      database: `test_${namespace}`,
    },
  };
  return deepMerge(base, overrides);
}

export async function startTestGateway(config: GatewayConfig, role: Role = "all"): Promise<RunningGateway> {
  return startGateway(config, pino({ level: config.log.level }), role);
}

function deepMerge(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const merged = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const current = merged[key];
    merged[key] =
      isPlainObject(current) && isPlainObject(value)
        ? deepMerge(current, value)
        : (value as Record<string, unknown>);
  }
  return merged;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Rows of a query against the ClickHouse database of a test gateway. */
export async function queryAnalytics<Row>(
  config: GatewayConfig,
  query: string,
  params: Record<string, unknown> = {},
): Promise<Row[]> {
  return withAnalytics(config, async (client) => {
    const result = await client.query({ query, query_params: params, format: "JSONEachRow" });
    return await result.json<Row>();
  });
}

/** A statement without rows (SYSTEM …, ALTER …) against the ClickHouse database of a test gateway. */
export async function commandAnalytics(
  config: GatewayConfig,
  query: string,
  params: Record<string, unknown> = {},
): Promise<void> {
  await withAnalytics(config, (client) => client.command({ query, query_params: params }));
}

async function withAnalytics<T>(
  config: GatewayConfig,
  use: (client: ClickHouseClient) => Promise<T>,
): Promise<T> {
  const client = createClient({
    url: config.clickhouse.url,
    username: config.clickhouse.username,
    password: config.clickhouse.password,
    database: config.clickhouse.database,
  });
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}

/** The request id (UUID) behind an OpenAI-shaped answer id (`chatcmpl-<32 hex>`) or an Anthropic one (`msg_…`). */
export function requestIdOf(answerId: string): string {
  const hex = answerId.replace(/^(chatcmpl-|msg_)/, "");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
