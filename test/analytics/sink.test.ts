import { randomUUID } from "node:crypto";
import type { Kafka } from "kafkajs";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../app/gateway.ts";
import { type ConnectedBus, connectBus } from "../../bus/connect.ts";
import { eventsTopic } from "../../bus/kafka/topics.ts";
import type { GatewayConfig } from "../../config/schema.ts";
import { newKafka } from "../../runtime/kafkajs.ts";
import { attemptEvent } from "../support/attempt-event.ts";
import { eventually } from "../support/eventually.ts";
import {
  commandAnalytics,
  queryAnalytics,
  startTestGateway,
  testConfig,
  testSettings,
} from "../support/gateway.ts";
import { spawnGateway } from "../support/processes.ts";
import { startTcpProxy } from "../support/tcp-proxy.ts";

/** An attempt event of a batch of test traffic, told apart from others by its key id. */
const markedEvent = (marker: string, index: number) =>
  attemptEvent({ attempt: `w:${index}.0`, keyId: marker, usage: { inputTokens: 10, outputTokens: index } });

/**
 * Rows stored for a marker, physically: merges are stopped for these tests, so a duplicate insert
 * stays visible as two rows instead of being collapsed by ReplacingMergeTree behind our back.
 */
async function stored(config: GatewayConfig, marker: string) {
  const [row] = await queryAnalytics<{ rows: number; unique: number; output: number }>(
    config,
    `SELECT count() AS rows, uniqExact(request_id, attempt) AS unique, sum(output_tokens) AS output
     FROM attempts WHERE key_id = {marker:String}`,
    { marker },
  );
  return { rows: Number(row?.rows), unique: Number(row?.unique), output: Number(row?.output) };
}

const expected = (count: number) => ({ rows: count, unique: count, output: (count * (count - 1)) / 2 });

/** The sink lands every event exactly once: no loss and no duplicate when it dies or ClickHouse does. */
describe.each(["kafkajs", "platformatic"] as const)(
  "the analytics sink on Kafka (kafka.client: %s)",
  (client) => {
    let config: GatewayConfig;
    let bus: ConnectedBus;
    let kafka: Kafka;
    const log = pino({ level: "silent" });

    beforeAll(async () => {
      config = testConfig("kafka", { analytics: { sink: { maxWaitMs: 100 } }, kafka: { client } });
      bus = await connectBus(config, log);
      kafka = newKafka({ brokers: config.kafka.brokers, logLevel: 0 });
      // Creates the database and tables, then keeps ClickHouse from merging duplicates away.
      const first = await startTestGateway(config, "sink");
      await first.close();
      await commandAnalytics(config, "SYSTEM STOP MERGES attempts");
    });
    afterAll(async () => {
      await bus.close();
    });

    const publish = async (marker: string, count: number) => {
      await Promise.all(
        Array.from({ length: count }, (_, index) => bus.events.publishAttempt(markedEvent(marker, index))),
      );
    };

    /** Once the sink's group has committed every event of the topic. */
    const caughtUp = async () => {
      const admin = kafka.admin();
      await admin.connect();
      try {
        await eventually(async () => {
          const topic = eventsTopic(config.kafka, "attempt");
          const ends = await admin.fetchTopicOffsets(topic);
          const [committed] = await admin.fetchOffsets({
            groupId: `${config.kafka.topicPrefix}analytics`,
            topics: [topic],
          });
          for (const end of ends) {
            const at = committed?.partitions.find((partition) => partition.partition === end.partition);
            expect(at?.offset).toBe(end.high);
          }
        }, 30_000);
      } finally {
        await admin.disconnect();
      }
    };

    const resetToEarliest = async () => {
      const admin = kafka.admin();
      await admin.connect();
      await admin.resetOffsets({
        groupId: `${config.kafka.topicPrefix}analytics`,
        topic: eventsTopic(config.kafka, "attempt"),
        earliest: true,
      });
      await admin.disconnect();
    };

    it("stores the events of one fetch with one insert, whatever partitions they are in", async () => {
      const marker = `one-insert-${randomUUID()}`;
      // Merges are stopped: every insert stays one part of its own.
      const parts = async () => {
        const [row] = await queryAnalytics<{ parts: number }>(
          config,
          "SELECT count() AS parts FROM system.parts WHERE database = currentDatabase() AND table = 'attempts' AND active",
        );
        return Number(row?.parts);
      };
      const sink = await startTestGateway(config, "sink");
      try {
        const before = await parts();
        await publish(marker, 90); // one produce request, keyed at random over the topic's partitions
        await eventually(async () => expect(await stored(config, marker)).toEqual(expected(90)), 30_000);
        const [spread] = await queryAnalytics<{ partitions: number }>(
          config,
          "SELECT uniqExact(source_partition) AS partitions FROM attempts WHERE key_id = {marker:String}",
          { marker },
        );
        expect(Number(spread?.partitions)).toBe(config.kafka.eventPartitions);
        expect(await parts()).toBe(before + 1);
      } finally {
        await sink.close();
      }
    });

    it("stores only what is missing when a sink takes over events an earlier one stored but never committed", async () => {
      const marker = `takeover-${randomUUID()}`;
      let sink: RunningGateway = await startTestGateway(config, "sink");
      await publish(marker, 300);
      await eventually(async () => expect(await stored(config, marker)).toEqual(expected(300)), 30_000);
      await caughtUp();
      await sink.close();

      // As if the sink had died after storing, before committing: every event is offered again, and
      // as if part of them had not made it, some are missing from ClickHouse.
      await resetToEarliest();
      await commandAnalytics(config, "SYSTEM START MERGES attempts");
      await commandAnalytics(
        config,
        "ALTER TABLE attempts DELETE WHERE key_id = {marker:String} AND output_tokens >= 250 SETTINGS mutations_sync = 2",
        { marker },
      );
      await commandAnalytics(config, "SYSTEM STOP MERGES attempts");
      expect((await stored(config, marker)).rows).toBe(250);

      sink = await startTestGateway(config, "sink");
      try {
        await caughtUp();
        expect(await stored(config, marker)).toEqual(expected(300));
      } finally {
        await sink.close();
      }
    });

    it("keeps events while ClickHouse is unreachable and stores each once when it is back", async () => {
      const marker = `outage-${randomUUID()}`;
      const proxy = await startTcpProxy(new URL(config.clickhouse.url));
      const sink = await startTestGateway(
        { ...config, clickhouse: { ...config.clickhouse, url: proxy.url } },
        "sink",
      );
      try {
        await publish(marker, 100);
        await eventually(async () => expect(await stored(config, marker)).toEqual(expected(100)), 30_000);
        proxy.cut();
        await publish(marker, 200);
        await new Promise((resolve) => setTimeout(resolve, 1500)); // several failed inserts and retries
        expect((await stored(config, marker)).rows).toBe(100);
        proxy.restore();
        await caughtUp();
        const after = await stored(config, marker);
        expect(after.rows).toBe(300);
        expect(after.unique).toBe(300);
      } finally {
        await sink.close();
        await proxy.close();
      }
    });

    it("loses and duplicates nothing when the sink process is killed mid-stream and another takes over", async () => {
      const marker = `killed-${randomUUID()}`;
      const settings = {
        ...testSettings("kafka", {}, ""),
        kafka: config.kafka,
        redis: config.redis,
        clickhouse: config.clickhouse,
        analytics: config.analytics,
        log: { level: "info" },
      };
      const first = await spawnGateway(settings, "sink");
      const total = 3000;
      const publishing = (async () => {
        for (let sent = 0; sent < total; sent += 100) {
          await Promise.all(
            Array.from({ length: 100 }, (_, index) =>
              bus.events.publishAttempt(markedEvent(marker, sent + index)),
            ),
          );
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })();
      await eventually(async () => expect((await stored(config, marker)).rows).toBeGreaterThan(0), 30_000);
      first.kill("SIGKILL");
      await first.exited;
      await publishing;
      const second = await spawnGateway(settings, "sink");
      try {
        await caughtUp();
        expect(await stored(config, marker)).toEqual({
          rows: total,
          unique: total,
          output: (total * (total - 1)) / 2,
        });
      } finally {
        second.kill("SIGTERM");
        await second.exited;
      }
    });
  },
);
