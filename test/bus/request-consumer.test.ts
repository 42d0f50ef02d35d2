import { randomUUID } from "node:crypto";
import { type Admin, type KafkaMessage, logLevel } from "kafkajs";
import { pino } from "pino";
import { Registry } from "prom-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createKafka } from "../../bus/kafka/client.ts";
import { connectKafkaMessaging } from "../../bus/kafka/messaging.ts";
import { deadLetterTopic, requestTopic, workerGroup } from "../../bus/kafka/topics.ts";
import type { Delivery, DeliverySink, RequestConsumer } from "../../bus/messaging.ts";
import type { GatewayConfig } from "../../config/schema.ts";
import { newKafka } from "../../runtime/kafkajs.ts";
import type { Priority, RequestEnvelopeInput } from "../../schemas/request-envelope.ts";
import { eventually } from "../support/eventually.ts";
import { testConfig } from "../support/gateway.ts";

/**
 * A worker's request consumer on each Kafka client the gateway can use (`kafka.client`), against
 * a real broker: each request handed out once, a full priority paused alone, offsets committed
 * only below the lowest unfinished request, partitions and their work following the group as
 * workers join and leave, undecodable messages kept in the dead letters. One partition per topic,
 * so that offsets are the order of publication.
 */

const log = pino({ level: "silent" });

/** A scheduler stand-in: records what it is given; `room` bounds each priority's deliveries before a pause. */
class RecordingSink implements DeliverySink {
  readonly deliveries: Array<{ priority: Priority; delivery: Delivery }> = [];
  readonly room: Partial<Record<Priority, number>> = {};

  offer(priority: Priority, delivery: Delivery): boolean {
    this.deliveries.push({ priority, delivery });
    return this.of(priority).length < (this.room[priority] ?? Number.POSITIVE_INFINITY);
  }

  of(priority: Priority): Delivery[] {
    return this.deliveries.filter((entry) => entry.priority === priority).map((entry) => entry.delivery);
  }

  ids(priority?: Priority): string[] {
    return this.deliveries
      .filter((entry) => priority === undefined || entry.priority === priority)
      .map((entry) => entry.delivery.envelope.id);
  }
}

function envelope(priority: Priority, id = randomUUID()): RequestEnvelopeInput {
  return {
    id,
    receivedAtMs: Date.now(),
    deadlineMs: Date.now() + 60_000,
    priority,
    replyTo: "test",
    inboundApi: "openai_chat",
    stream: false,
    countTokens: false,
    caller: { keyId: "test", team: null, user: null, tags: {} },
    routing: null,
    cache: null,
    chat: null,
    embeddings: null,
    traceContext: {},
    batch: null,
  };
}

const noReplies = {
  sender: { send: async () => {} },
  createReceiver: async () => {
    throw new Error("no replies in this test");
  },
};

describe.each(["kafkajs", "platformatic"] as const)("the request consumer on %s", (client) => {
  const admin: Admin = newKafka({
    brokers: testConfig("kafka").kafka.brokers,
    logLevel: logLevel.NOTHING,
  }).admin();
  let config: GatewayConfig;
  let messaging: Awaited<ReturnType<typeof connectKafkaMessaging>>;
  let consumers: RequestConsumer[] = [];

  beforeAll(() => admin.connect());
  afterAll(() => admin.disconnect());
  /** Each test on topics of its own. */
  async function connect() {
    config = testConfig(
      "kafka",
      { kafka: { client, partitions: 1, sessionTimeoutMs: 6000 } },
      `rc${client}${randomUUID().slice(0, 8).replaceAll("-", "")}`,
    );
    messaging = await connectKafkaMessaging(
      createKafka(config.kafka, log),
      config,
      noReplies,
      new Registry(),
      log,
    );
  }
  afterEach(async () => {
    await Promise.all(consumers.map((consumer) => consumer.close()));
    consumers = [];
    await messaging?.close();
  });

  async function startConsumer(sink: DeliverySink): Promise<RequestConsumer> {
    const consumer = messaging.createConsumer();
    consumers.push(consumer);
    await consumer.start(sink);
    return consumer;
  }

  async function publish(priority: Priority, count: number): Promise<string[]> {
    const envelopes = Array.from({ length: count }, () => envelope(priority));
    // In one event-loop turn: one produce request, in this order.
    await Promise.all(envelopes.map((each) => messaging.requests.publish(each)));
    return envelopes.map(({ id }) => id);
  }

  async function committed(priority: Priority): Promise<number> {
    const topic = requestTopic(config.kafka, priority);
    const [offsets] = await admin.fetchOffsets({ groupId: workerGroup(config.kafka), topics: [topic] });
    return Number(offsets?.partitions[0]?.offset ?? -1);
  }

  it("hands each request out once and commits only below the lowest unfinished one", async () => {
    await connect();
    const sink = new RecordingSink();
    await startConsumer(sink);
    const ids = await publish("interactive", 5);
    await eventually(() => expect(sink.ids()).toEqual(ids));
    const [first, second, ...rest] = sink.of("interactive") as [Delivery, Delivery, ...Delivery[]];
    first.settle();
    for (const delivery of rest) delivery.settle();
    // Offset 1 runs on: everything from it stays for a next owner, finished or not.
    await eventually(() => expect(committed("interactive")).resolves.toBe(1));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await committed("interactive")).toBe(1);
    second.settle();
    await eventually(() => expect(committed("interactive")).resolves.toBe(5));
    expect(sink.ids()).toEqual(ids);
  });

  it("pauses a full priority alone, and hands out the rest of it on resume", async () => {
    await connect();
    const sink = new RecordingSink();
    sink.room.interactive = 2;
    const consumer = await startConsumer(sink);
    const interactive = await publish("interactive", 6);
    const standard = await publish("default", 3);
    await eventually(() => expect(sink.ids("default")).toEqual(standard));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(sink.ids("interactive")).toEqual(interactive.slice(0, 2));
    sink.room.interactive = undefined;
    consumer.resume("interactive");
    await eventually(() => expect(sink.ids("interactive")).toEqual(interactive));
  });

  it("gives work to a worker that joins and takes it back when it leaves, unfinished work included", async () => {
    await connect();
    const first = new RecordingSink();
    await startConsumer(first);
    const published = new Map<Priority, string[]>();
    for (const priority of ["interactive", "default", "batch"] as const)
      published.set(priority, await publish(priority, 2));
    await eventually(() => expect(first.deliveries).toHaveLength(6));

    // Three partitions, two workers: the newcomer gets one or two of them, with their unfinished requests.
    const second = new RecordingSink();
    const newcomer = await startConsumer(second);
    await eventually(() => {
      const lost = first.deliveries.filter(({ delivery }) => !delivery.stillOwned());
      expect(lost.length).toBeGreaterThan(0);
      expect(lost.length).toBeLessThan(6);
      expect(second.ids().sort()).toEqual(lost.map(({ delivery }) => delivery.envelope.id).sort());
    }, 30_000);
    const moved = second.deliveries.map(({ priority }) => priority);
    for (const { priority, delivery } of first.deliveries)
      expect(delivery.stillOwned()).toBe(!moved.includes(priority));

    // The newcomer finishes one of its requests, leaves, and the first worker gets the rest back.
    const [finished, ...unfinished] = second.deliveries as [
      { priority: Priority; delivery: Delivery },
      ...Array<{ priority: Priority; delivery: Delivery }>,
    ];
    finished.delivery.settle();
    await newcomer.close();
    consumers = consumers.filter((consumer) => consumer !== newcomer);
    await eventually(() => {
      const again = first.ids().slice(6);
      expect(again.sort()).toEqual(unfinished.map(({ delivery }) => delivery.envelope.id).sort());
    }, 30_000);
    for (const { delivery } of first.deliveries.slice(6)) expect(delivery.stillOwned()).toBe(true);
  }, 90_000);

  it("commits what finished on close; the next worker gets only what did not", async () => {
    await connect();
    const sink = new RecordingSink();
    const leaving = await startConsumer(sink);
    const ids = await publish("default", 3);
    await eventually(() => expect(sink.ids()).toEqual(ids));
    sink.of("default")[0]?.settle();
    await leaving.close();
    consumers = [];
    expect(await committed("default")).toBe(1);

    const next = new RecordingSink();
    await startConsumer(next);
    await eventually(() => expect(next.ids()).toEqual(ids.slice(1)));
  }, 60_000);

  it("keeps an undecodable message in the dead letters and goes on past it", async () => {
    await connect();
    const producer = createKafka(config.kafka, log).producer();
    await producer.connect();
    const garbage = Buffer.from([0xff, 0xfe, 0x00, 0x13, 0x37]);
    await producer.send({
      topic: requestTopic(config.kafka, "batch"),
      messages: [{ key: "garbage", value: garbage, headers: { origin: "a test" } }],
    });
    await producer.disconnect();
    const [id] = await publish("batch", 1);
    const sink = new RecordingSink();
    await startConsumer(sink);
    await eventually(() => expect(sink.ids()).toEqual([id]));
    sink.of("batch")[0]?.settle();
    await eventually(() => expect(committed("batch")).resolves.toBe(2), 15_000);
    const letter = await firstMessage(deadLetterTopic(config.kafka));
    expect(letter.value?.equals(garbage)).toBe(true);
    expect(letter.key?.toString()).toBe("garbage");
    expect(letter.headers?.origin?.toString()).toBe("a test");
    expect(letter.headers?.["dead-letter-offset"]?.toString()).toBe("0");
    expect(letter.headers?.["dead-letter-consumer"]?.toString()).toBe(workerGroup(config.kafka));
  }, 30_000);

  /** The first message of a topic, read by a group of its own. */
  async function firstMessage(topic: string): Promise<KafkaMessage> {
    const reader = createKafka(config.kafka, log).consumer({
      groupId: `reader-${randomUUID()}`,
      maxWaitTimeInMs: 100,
    });
    await reader.connect();
    try {
      await reader.subscribe({ topics: [topic], fromBeginning: true });
      return await new Promise<KafkaMessage>((resolve) => {
        void reader.run({ eachMessage: async ({ message }) => resolve(message) });
      });
    } finally {
      await reader.disconnect();
    }
  }
});
