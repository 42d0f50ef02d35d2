import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ClickHouseClient, createClient } from "@clickhouse/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type EmbeddedClickHouse,
  startEmbeddedClickHouse,
} from "../../analytics/clickhouse/embedded-server.ts";
import { costNanoUsd } from "../../config/pricing/cost.ts";
import { type KafkaPorts, startLocalKafka } from "../../local-services/kafka.ts";
import { startLocalRedis } from "../../local-services/redis.ts";
import { zeroUsage } from "../../schemas/reply-event.ts";
import { type Bill, type OpenAIEmulator, startOpenAIEmulator } from "../emulators/openai.ts";
import type { RedisEndpoint, RunningService } from "../services/endpoints.ts";
import { eventually } from "../support/eventually.ts";
import { testKey, testSettings } from "../support/gateway.ts";
import { type GatewayProcess, spawnGateway } from "../support/processes.ts";
import { type Outcome, startLoad } from "./load.ts";

/** gpt-4o-mini in config/pricing/prices.yaml, USD per million tokens. */
const price = { input: 0.15, output: 0.6 };

/**
 * The distributed shape — one ingress, two workers and one sink as separate processes on a Kafka
 * broker, a Redis and a ClickHouse of this file's own — under steady load while, one after the
 * other, a worker and the sink are SIGKILLed and restarted, Redis is stopped and started empty,
 * ClickHouse is stopped for a minute, and the broker is restarted. Checked from outside: every
 * request was answered once or failed clearly, no text was duplicated or mixed, each request has
 * one row, each answered request one answering attempt, and tokens and cost reconcile with what
 * the provider emulator billed (exactly where the provider reported usage, never below it where the
 * gateway had to estimate). On each Kafka client the request path can run on.
 */
describe.each(["kafkajs", "platformatic"] as const)(
  "the distributed shape under faults (kafka.client: %s)",
  (client) => {
    const workDir = mkdtempSync(join(tmpdir(), "gateway-faults-"));
    const namespace = `faults${client}${Date.now()}`;
    const database = `faults_${client}_${Date.now()}`;
    let emulator: OpenAIEmulator;
    let kafka: RunningService<{ brokers: string[] }> & { ports: KafkaPorts };
    let redis: RunningService<RedisEndpoint>;
    let clickhouse: EmbeddedClickHouse;
    let clickhousePort: number;
    let settings: Record<string, unknown>;
    let ingress: GatewayProcess;
    let workers: GatewayProcess[];
    let sink: GatewayProcess;
    const processes: GatewayProcess[] = [];
    const dir = (name: string) => {
      const path = join(workDir, name);
      mkdirSync(path, { recursive: true });
      return path;
    };
    const spawn = async (role: "ingress" | "worker" | "sink") => {
      const process = await spawnGateway(settings, role);
      processes.push(process);
      return process;
    };

    beforeAll(async () => {
      emulator = await startOpenAIEmulator({ apiKey: "sk-emulated", chunkDelayMs: 20, record: false });
      [kafka, redis, clickhouse] = await Promise.all([
        startLocalKafka(dir("kafka")),
        startLocalRedis(dir("redis")),
        startEmbeddedClickHouse({ dataDir: dir("clickhouse") }),
      ]);
      clickhousePort = Number(new URL(clickhouse.url).port);
      settings = testSettings(
        "kafka",
        {
          log: { level: "info" },
          server: { shutdownGraceMs: 2000 },
          ingress: { workerSilenceMs: 2000, requestTimeoutMs: 60_000 },
          workers: { heartbeatMs: 300 },
          kafka: { brokers: kafka.endpoint.brokers, sessionTimeoutMs: 6000, client },
          redis: { url: redis.endpoint.url },
          clickhouse: { url: clickhouse.url, username: "default", password: "", database },
          analytics: { sink: { maxWaitMs: 500 } },
          routing: { maxAttempts: 3, circuitBreakers: false },
          providers: [
            { name: "emulated", type: "openai", options: { baseUrl: emulator.url, apiKey: "sk-emulated" } },
          ],
          models: [{ name: "gpt-4o-mini", provider: "emulated" }],
        },
        namespace,
      );
      sink = await spawn("sink");
      workers = [await spawn("worker")];
      [ingress, workers[1]] = await Promise.all([spawn("ingress"), spawn("worker")]);
    }, 240_000);

    afterAll(async () => {
      for (const process of processes) process.kill("SIGKILL");
      await Promise.allSettled([kafka?.stop(), redis?.stop(), clickhouse?.stop(), emulator?.close()]);
      rmSync(workDir, { recursive: true, force: true });
    });

    it(
      "answers every request once or fails it clearly, and accounts for every provider call",
      async () => {
        const load = startLoad(ingress.url, testKey, 12);
        const started = Date.now();
        const at = (seconds: number) => sleep(started + seconds * 1000 - Date.now());
        const log = (what: string) =>
          console.info(`faults: ${Math.round((Date.now() - started) / 1000)} s: ${what} (${load.sent} sent)`);

        await at(10);
        log("SIGKILL a worker");
        workers[0]?.kill("SIGKILL");
        await at(15);
        workers[0] = await spawn("worker");
        log("worker restarted");

        await at(25);
        log("SIGKILL the sink");
        sink.kill("SIGKILL");
        await at(30);
        sink = await spawn("sink");
        log("sink restarted");

        await at(40);
        log("stop Redis");
        await redis.stop();
        await at(45);
        redis = await startLocalRedis(dir("redis"), { port: Number(new URL(redis.endpoint.url).port) });
        log("Redis started, empty");

        await at(55);
        log("stop ClickHouse for a minute");
        await clickhouse.stop();
        await at(115);
        clickhouse = await startEmbeddedClickHouse({ dataDir: dir("clickhouse"), port: clickhousePort });
        log("ClickHouse started");

        await at(125);
        log("stop the broker");
        await kafka.stop();
        await at(135);
        kafka = await startLocalKafka(dir("kafka"), { ports: kafka.ports });
        log("broker started");

        await at(150);
        const outcomes = await load.stop();
        log("load stopped, every request ended");

        const analytics = createClient({ url: clickhouse.url, database });
        try {
          await checkOutcomes(outcomes);
          await checkRows(analytics, outcomes, emulator.bills);
        } finally {
          await analytics.close();
        }
      },
      15 * 60_000,
    );
  },
);

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** From the clients' side: each answered whole and once, or failed with an error in OpenAI's shape. */
async function checkOutcomes(outcomes: Outcome[]) {
  const answered = outcomes.filter((outcome) => !outcome.error);
  const failed = outcomes.filter((outcome) => outcome.error);
  console.info(
    `faults: ${outcomes.length} requests, ${answered.length} answered, ${failed.length} failed: ${JSON.stringify(
      countBy(failed, (outcome) => `${outcome.error?.status} ${outcome.error?.message.slice(0, 80)}`),
    )}`,
  );
  for (const outcome of answered)
    expect(outcome.text, `request ${outcome.index}`).toBe(`Echo: ${outcome.prompt}`);
  for (const outcome of failed) {
    // Clearly: an HTTP error in OpenAI's shape (or an error event mid-stream), never a hang or a reset.
    expect(outcome.error?.type, `request ${outcome.index}: ${outcome.error?.message}`).not.toMatch(
      /APIConnectionError|APIConnectionTimeoutError/,
    );
    expect(outcome.error?.message).toBeTruthy();
    // Whatever came before the error was the start of one answer, never text of two.
    expect(`Echo: ${outcome.prompt}`.startsWith(outcome.text), `request ${outcome.index}`).toBe(true);
  }
  expect(answered.length).toBeGreaterThan(outcomes.length / 2);
}

interface RequestRow {
  n: string;
  outcome: string;
  rows: number;
}

interface AttemptRow {
  n: string;
  outcome: string;
  error_code: string;
  usage_estimated: boolean;
  input_tokens: number;
  output_tokens: number;
  cost_nano: string;
}

/** From ClickHouse: one row per request, one answering attempt per answer, tokens and cost against the bills. */
async function checkRows(analytics: ClickHouseClient, outcomes: Outcome[], bills: Bill[]) {
  const query = async <Row>(sql: string) =>
    (await analytics.query({ query: sql, format: "JSONEachRow" })).json<Row>();
  // Events that waited in Kafka while ClickHouse was down land once it is back.
  let requests: RequestRow[] = [];
  await eventually(async () => {
    requests = await query<RequestRow>(
      `SELECT tags['n'] AS n, any(outcome) AS outcome, count() AS rows
       FROM requests FINAL WHERE stage = 'finished' GROUP BY n`,
    );
    expect(requests.length).toBe(outcomes.length);
  }, 180_000).catch((error) => {
    const recorded = new Set(requests.map((row) => Number(row.n)));
    const missing = outcomes.filter((outcome) => !recorded.has(outcome.index));
    console.info(
      `faults: no request row for ${missing.length}: ${JSON.stringify(
        countBy(missing, (outcome) => outcome.error?.message.slice(0, 60) ?? "answered"),
      )}, e.g. ${missing
        .slice(0, 10)
        .map((outcome) => outcome.index)
        .join(", ")}`,
    );
    throw error;
  });
  const byIndex = new Map(requests.map((row) => [Number(row.n), row]));
  for (const outcome of outcomes) {
    const row = byIndex.get(outcome.index);
    expect(row?.rows, `request ${outcome.index}`).toBe(1);
    expect(row?.outcome === "completed", `request ${outcome.index}: ${row?.outcome}`).toBe(!outcome.error);
  }

  // Each process holds its events while the broker is away and sends them once it is back, on a
  // retry timer of its own (up to 5 s apart): a worker's attempt rows may land after the request
  // rows the ingress sent. Looking once, at the moment the last request row landed, missed some.
  let attempts: AttemptRow[] = [];
  let attemptsOf = new Map<number, AttemptRow[]>();
  const answeredUnrecorded = () =>
    outcomes.filter(
      (outcome) =>
        !outcome.error && !(attemptsOf.get(outcome.index) ?? []).some((row) => row.outcome === "completed"),
    );
  await eventually(async () => {
    attempts = await query<AttemptRow>(
      `SELECT tags['n'] AS n, outcome, error_code, usage_estimated, input_tokens, output_tokens,
              toString(toDecimal128(cost, 9) * 1000000000) AS cost_nano
       FROM attempts FINAL WHERE cache = ''`,
    );
    attemptsOf = groupBy(attempts, (row) => Number(row.n));
    expect(answeredUnrecorded().map((outcome) => outcome.index)).toEqual([]);
  }, 60_000);
  const billsOf = groupBy(bills, (bill) => Number(/^request (\d+) /.exec(bill.prompt)?.[1]));
  let billedNano = 0;
  let recordedNano = 0;
  const lostCalls = attempts.filter((row) => row.error_code === "lost").length;
  for (const outcome of outcomes) {
    const rows = attemptsOf.get(outcome.index) ?? [];
    const completed = rows.filter((row) => row.outcome === "completed");
    // Each answer has the attempt that answered it.
    if (!outcome.error) expect(completed, `request ${outcome.index}`).toHaveLength(1);
    const billed = billsOf.get(outcome.index) ?? [];
    const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
    const billedTokens = {
      input: sum(billed.map((bill) => bill.inputTokens)),
      output: sum(billed.map((bill) => bill.outputTokens)),
    };
    const recordedTokens = {
      input: sum(rows.map((row) => Number(row.input_tokens))),
      output: sum(rows.map((row) => Number(row.output_tokens))),
    };
    const estimated = rows.some((row) => row.usage_estimated);
    if (estimated) {
      expect(recordedTokens.input, `request ${outcome.index} input`).toBeGreaterThanOrEqual(
        billedTokens.input,
      );
      expect(recordedTokens.output, `request ${outcome.index} output`).toBeGreaterThanOrEqual(
        billedTokens.output,
      );
    } else {
      expect(recordedTokens, `request ${outcome.index}`).toEqual(billedTokens);
    }
    billedNano += sum(
      billed.map((bill) =>
        costNanoUsd({ ...zeroUsage, inputTokens: bill.inputTokens, outputTokens: bill.outputTokens }, price),
      ),
    );
    recordedNano += sum(rows.map((row) => Number(row.cost_nano)));
  }
  console.info(
    `faults: ${attempts.length} attempts (${lostCalls} lost), ${bills.length} calls billed; recorded $${recordedNano / 1e9}, billed $${billedNano / 1e9}`,
  );
  expect(recordedNano).toBeGreaterThanOrEqual(billedNano);
}

function groupBy<T, K>(items: T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}

function countBy<T>(items: T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}
