import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Admin,
  ConfigResourceTypes,
  type IHeaders,
  type Kafka,
  type KafkaMessage,
  logLevel,
  type Producer,
} from "kafkajs";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../app/gateway.ts";
import { parseConfig } from "../../config/load.ts";
import type { GatewayConfig } from "../../config/schema.ts";
import { newKafka } from "../../runtime/kafkajs.ts";
import { runCli } from "../support/cli.ts";
import { eventually } from "../support/eventually.ts";
import { queryAnalytics, requestIdOf, startTestGateway, testKey, testSettings } from "../support/gateway.ts";
import { sampleSum, scrape } from "../support/prometheus.ts";

/**
 * Messages no consumer of the gateway can decode go to the dead-letter topic, whole, before their
 * offset is committed; `ai-gateway dead-letters` lists, shows and replays them. Written against
 * Kafka itself (topic names, headers, group offsets), as an operator would look at it.
 */

/** One message we put on a topic, and where Kafka put it. */
interface Sent {
  topic: string;
  partition: number;
  offset: string;
  key: string;
  value: Buffer;
  headers: Record<string, string>;
  reason: "undecodable" | "unknown-schema-version";
}

interface Letter {
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

const deadLetterHeaders = (headers: Record<string, string>) =>
  Object.fromEntries(Object.entries(headers).filter(([name]) => name.startsWith("dead-letter-")));
const originalHeaders = (headers: Record<string, string>) =>
  Object.fromEntries(Object.entries(headers).filter(([name]) => !name.startsWith("dead-letter-")));

function textHeaders(headers: IHeaders | undefined): Record<string, string> {
  const text: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    // A header given twice would come back as an array: keep it visible as one.
    text[name] = Array.isArray(value) ? value.map(String).join("|") : value.toString();
  }
  return text;
}

/** Every message of a topic from its start, read by a group of its own that never commits. */
async function readTopic(kafka: Kafka, admin: Admin, topic: string): Promise<Letter[]> {
  const ends = await admin.fetchTopicOffsets(topic);
  const total = ends.reduce((sum, { high, low }) => sum + Number(high) - Number(low), 0);
  if (total === 0) return [];
  const consumer = kafka.consumer({ groupId: `reader-${randomUUID()}`, maxWaitTimeInMs: 100 });
  const messages: Array<{ partition: number; message: KafkaMessage }> = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve) => {
      void consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          messages.push({ partition, message });
          if (messages.length >= total) resolve();
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return messages.map(({ message }) => ({
    offset: message.offset,
    key: message.key?.toString() ?? null,
    value: message.value,
    headers: textHeaders(message.headers),
  }));
}

describe("dead letters on Kafka", () => {
  const settings = testSettings("kafka", { analytics: { sink: { maxWaitMs: 100 } } });
  const config: GatewayConfig = parseConfig(JSON.stringify(settings), "test", {});
  const prefix = config.kafka.topicPrefix;
  const deadLetterTopic = `${prefix}dead-letters`;
  const consumed = [
    { topics: ["interactive", "default", "batch"].map((p) => `${prefix}requests.${p}`), group: "workers" },
    { topics: ["attempt", "request", "audit"].map((k) => `${prefix}${k}-events`), group: "analytics" },
    { topics: [`${prefix}batch-results`], group: "batch-coordinators" },
  ];
  const kafka = newKafka({
    clientId: "dead-letters-test",
    brokers: config.kafka.brokers,
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  let producer: Producer;
  let gateway: RunningGateway;
  let configDirectory: string;
  let cliEnv: Record<string, string>;
  const sent: Sent[] = [];
  const testStarted = Date.now();

  beforeAll(async () => {
    gateway = await startTestGateway(config);
    await admin.connect();
    producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    configDirectory = mkdtempSync(join(tmpdir(), "dead-letters-"));
    const configFile = join(configDirectory, "gateway.json");
    writeFileSync(configFile, JSON.stringify(settings));
    cliEnv = { GATEWAY_CONFIG: configFile };
  });
  afterAll(async () => {
    await gateway?.close();
    await producer?.disconnect();
    await admin.disconnect();
    if (configDirectory) rmSync(configDirectory, { recursive: true, force: true });
  });

  /** Puts a message on one partition of a topic and remembers it. */
  const put = async (message: Omit<Sent, "offset">) => {
    const [meta] = await producer.send({
      topic: message.topic,
      acks: -1,
      messages: [
        { partition: message.partition, key: message.key, value: message.value, headers: message.headers },
      ],
    });
    sent.push({ ...message, offset: String(meta?.baseOffset) });
  };

  it("keeps each undecodable message whole, with where it came from and why, and its partition goes on", async () => {
    const groups = new Map<string, string>();
    for (const { topics, group } of consumed) {
      for (const topic of topics) {
        groups.set(topic, `${prefix}${group}`);
        const [metadata] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
        // Garbage on every partition: whatever partition a later message lands on, it is behind one.
        for (const { partitionId } of metadata?.partitions ?? []) {
          await put({
            topic,
            partition: partitionId,
            key: `garbage-${partitionId}`,
            value: Buffer.from([0xff, 0xfe, 0x00, 0x13, 0x37, 0x80, 0x80, 0x80, 0x80, 0x80]),
            headers: {
              origin: "a test",
              traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            },
            reason: "undecodable",
          });
        }
        // What a newer release writes: a schema version this one has never heard of.
        await put({
          topic,
          partition: 0,
          key: "from-the-future",
          value: Buffer.from("an Avro record of schema version 99"),
          headers: { "schema-version": "99" },
          reason: "unknown-schema-version",
        });
      }
    }

    let letters: Letter[] = [];
    await eventually(async () => {
      letters = await readTopic(kafka, admin, deadLetterTopic).catch(() => []);
      expect(letters).toHaveLength(sent.length);
    }, 30_000);

    for (const message of sent) {
      const letter = letters.find(
        ({ headers }) =>
          headers["dead-letter-topic"] === message.topic &&
          headers["dead-letter-partition"] === String(message.partition) &&
          headers["dead-letter-offset"] === message.offset,
      );
      expect(letter, `${message.topic} ${message.partition}/${message.offset}`).toBeDefined();
      if (!letter) continue;
      expect(letter.key).toBe(message.key);
      expect(letter.value?.equals(message.value)).toBe(true);
      expect(originalHeaders(letter.headers)).toEqual(message.headers);
      const headers = deadLetterHeaders(letter.headers);
      expect(headers).toMatchObject({
        "dead-letter-topic": message.topic,
        "dead-letter-partition": String(message.partition),
        "dead-letter-offset": message.offset,
        "dead-letter-class": message.reason,
        "dead-letter-consumer": groups.get(message.topic),
      });
      expect(headers["dead-letter-reason"]).toMatch(
        message.reason === "unknown-schema-version" ? /version 99/ : /\w/,
      );
      const time = Date.parse(headers["dead-letter-time"] ?? "");
      expect(time).toBeGreaterThanOrEqual(testStarted);
      expect(time).toBeLessThanOrEqual(Date.now());
    }

    // Counted by source topic and class of reason.
    const samples = await scrape(gateway.url);
    for (const topic of groups.keys()) {
      for (const reason of ["undecodable", "unknown-schema-version"] as const) {
        const expected = sent.filter(
          (message) => message.topic === topic && message.reason === reason,
        ).length;
        expect(
          sampleSum(samples, "gateway_kafka_dead_letters_total", { topic, reason }),
          `${topic} ${reason}`,
        ).toBe(expected);
      }
    }

    // Every partition goes on: each consumer group commits past its dead letters…
    await eventually(async () => {
      for (const { topics, group } of consumed) {
        const committed = await admin.fetchOffsets({ groupId: `${prefix}${group}`, topics });
        for (const { topic, partitions } of committed) {
          const ends = await admin.fetchTopicOffsets(topic);
          for (const { partition, offset } of partitions) {
            const end = ends.find((candidate) => candidate.partition === partition)?.high;
            expect(`${topic}/${partition} at ${offset}`).toBe(`${topic}/${partition} at ${end}`);
          }
        }
      }
    }, 20_000);
    // …and what comes behind them is served and stored.
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: testKey, maxRetries: 0 });
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, index) =>
        client.chat.completions.create({
          model: "mock",
          messages: [{ role: "user", content: `after ${index}` }],
        }),
      ),
    );
    const ids = answers.map((answer) => requestIdOf(answer.id));
    await eventually(async () => {
      const [row] = await queryAnalytics<{ requests: string; attempts: string }>(
        config,
        `SELECT (SELECT count() FROM requests FINAL WHERE request_id IN {ids:Array(UUID)} AND status = 200) AS requests,
                (SELECT count() FROM attempts WHERE request_id IN {ids:Array(UUID)}) AS attempts`,
        { ids },
      );
      expect({ requests: Number(row?.requests), attempts: Number(row?.attempts) }).toEqual({
        requests: 8,
        attempts: 8,
      });
    }, 20_000);
  }, 90_000);

  it("lists, shows and replays them with ai-gateway dead-letters", async () => {
    const listed = await runCli(["dead-letters", "list", "--json"], cliEnv);
    expect(listed.stderr).toBe("");
    expect(listed.code).toBe(0);
    const rows = listed.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(rows).toHaveLength(sent.length);
    const future = sent.find((message) => message.reason === "unknown-schema-version") as Sent;
    const row = rows.find(
      (candidate) =>
        (candidate.source as { topic: string }).topic === future.topic &&
        (candidate.source as { offset: string }).offset === future.offset,
    );
    expect(row).toMatchObject({
      source: { topic: future.topic, partition: future.partition, offset: future.offset },
      consumer: `${prefix}workers`,
      class: "unknown-schema-version",
      size: future.value.length,
      replayed: null,
    });
    expect(Date.parse(row?.time as string)).toBeGreaterThanOrEqual(testStarted);
    const id = row?.id as string;

    // The human listing: one line per letter, its time, source, offset, reason and size.
    const table = await runCli(["dead-letters", "list"], cliEnv);
    expect(table.code).toBe(0);
    const line = table.stdout.split("\n").find((text) => text.startsWith(`${id} `)) ?? "";
    for (const part of [
      `${future.topic}/${future.partition}`,
      future.offset,
      "unknown-schema-version",
      `${future.value.length} B`,
    ])
      expect(line).toContain(part);

    const shown = await runCli(["dead-letters", "show", id], cliEnv);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({
      id,
      key: future.key,
      headers: future.headers,
      value: future.value.toString("base64"),
    });
    const raw = await runCli(["dead-letters", "show", id, "--value"], cliEnv);
    expect(raw.stdout).toBe(future.value.toString());

    // Replayed: back on its source topic as it was first written. The gateway still cannot read
    // it, so it comes back as a new dead letter, whose original part is the replayed message.
    const replayed = await runCli(["dead-letters", "replay", id], cliEnv);
    expect(replayed.stderr).toBe("");
    expect(replayed.code).toBe(0);
    let again: Letter | undefined;
    await eventually(async () => {
      const letters = await readTopic(kafka, admin, deadLetterTopic);
      const found = letters.filter(
        ({ key, headers }) =>
          key === future.key &&
          headers["dead-letter-topic"] === future.topic &&
          headers["dead-letter-offset"] !== future.offset,
      );
      expect(found).toHaveLength(1);
      again = found[0];
    }, 20_000);
    if (!again) throw new Error("unreachable");
    expect(again.value?.equals(future.value)).toBe(true);
    expect(originalHeaders(again.headers)).toEqual(future.headers);
    expect(BigInt(again.headers["dead-letter-offset"] ?? "0")).toBeGreaterThan(BigInt(future.offset));

    // A letter is replayed once unless forced; --all replays those not replayed yet.
    const twice = await runCli(["dead-letters", "replay", id], cliEnv);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/already replayed/);
    const afterReplay = await runCli(["dead-letters", "list", "--json"], cliEnv);
    const marked = afterReplay.stdout
      .trim()
      .split("\n")
      .map((text) => JSON.parse(text) as Record<string, unknown>);
    expect(marked).toHaveLength(sent.length + 1);
    expect(marked.find((candidate) => candidate.id === id)?.replayed).toEqual(expect.any(String));

    const source = `${prefix}batch-results`;
    const fromSource = sent.filter((message) => message.topic === source);
    const all = await runCli(["dead-letters", "replay", "--all", "--source", source], cliEnv);
    expect(all.code).toBe(0);
    expect(all.stdout).toContain(`replayed ${fromSource.length}`);
    await eventually(async () => {
      const letters = await readTopic(kafka, admin, deadLetterTopic);
      expect(letters.filter(({ value }) => value !== null)).toHaveLength(sent.length + 1 + fromSource.length);
    }, 20_000);
  }, 90_000);

  it("commits an undecodable message only once Kafka acknowledged its dead letter, and loses nothing behind it", async () => {
    // A gateway of its own, whose dead-letter topic stops taking letters: they are larger than it
    // accepts (as a letter of a message near Kafka's size limit would be).
    const own = parseConfig(
      JSON.stringify(testSettings("kafka", { analytics: { sink: { maxWaitMs: 100 } } })),
      "test",
      {},
    );
    const ownPrefix = own.kafka.topicPrefix;
    const requests = `${ownPrefix}requests.default`;
    const attempts = `${ownPrefix}attempt-events`;
    const letters = `${ownPrefix}dead-letters`;
    const maxMessageBytes = (value: string) =>
      admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: ConfigResourceTypes.TOPIC,
            name: letters,
            configEntries: [{ name: "max.message.bytes", value }],
          },
        ],
      });
    const other = await startTestGateway(own);
    try {
      await maxMessageBytes("64");
      const garbage = new Map<string, string>(); // topic/partition → offset of its garbage
      for (const topic of [requests, attempts]) {
        const [metadata] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
        for (const { partitionId } of metadata?.partitions ?? []) {
          const [meta] = await producer.send({
            topic,
            acks: -1,
            messages: [{ partition: partitionId, key: "garbage", value: Buffer.from([0xff, 0xff, 0xff]) }],
          });
          garbage.set(`${topic}/${partitionId}`, String(meta?.baseOffset));
        }
      }
      const client = new OpenAI({ baseURL: `${other.url}/v1`, apiKey: testKey, maxRetries: 0 });
      const answers = await Promise.all(
        Array.from({ length: 8 }, (_, index) =>
          client.chat.completions.create({
            model: "mock",
            messages: [{ role: "user", content: `behind ${index}` }],
          }),
        ),
      );
      const ids = answers.map((answer) => requestIdOf(answer.id));
      // The requests behind the garbage were served (the workers go on while a letter waits)…
      expect(answers.map((answer) => answer.choices[0]?.message.content)).toEqual(
        Array.from({ length: 8 }, (_, index) => `You said: behind ${index}`),
      );
      // Commits run every 200 ms: give them time to (wrongly) pass the garbage.
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      // …but no group committed past a message whose dead letter Kafka has not acknowledged.
      const committedPast = async () => {
        const past: string[] = [];
        for (const [topic, group] of [
          [requests, `${ownPrefix}workers`],
          [attempts, `${ownPrefix}analytics`],
        ] as const) {
          const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
          for (const { partition, offset } of committed?.partitions ?? []) {
            const at = garbage.get(`${topic}/${partition}`);
            if (at !== undefined && BigInt(offset) > BigInt(at))
              past.push(`${topic}/${partition} at ${offset}`);
          }
        }
        return past;
      };
      expect(await committedPast()).toEqual([]);
      expect(await readTopic(kafka, admin, letters)).toEqual([]);

      // Kafka takes letters again: they are kept, the groups commit past them, the attempts are stored.
      await maxMessageBytes(String(1024 * 1024));
      await eventually(async () => {
        expect(await readTopic(kafka, admin, letters)).toHaveLength(garbage.size);
        expect(await committedPast()).toHaveLength(garbage.size);
        // The sink held its batch meanwhile (analytics waited in Kafka): everything lands now.
        const [row] = await queryAnalytics<{ attempts: string; requests: string }>(
          own,
          `SELECT (SELECT count() FROM attempts WHERE request_id IN {ids:Array(UUID)}) AS attempts,
                  (SELECT count() FROM requests FINAL WHERE request_id IN {ids:Array(UUID)} AND status = 200) AS requests`,
          { ids },
        );
        expect({ attempts: Number(row?.attempts), requests: Number(row?.requests) }).toEqual({
          attempts: 8,
          requests: 8,
        });
      }, 60_000);
    } finally {
      await other.close();
    }
  }, 120_000);
});
