import { randomUUID } from "node:crypto";
import { logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { newKafka } from "../../runtime/kafkajs.ts";

const { brokers } = inject("services").kafka;
const kafka = newKafka({ clientId: "smoke", brokers, logLevel: logLevel.NOTHING });
const admin = kafka.admin();

beforeAll(() => admin.connect());
afterAll(() => admin.disconnect());

describe("Kafka", () => {
  it("is a real broker with a controller", async () => {
    const cluster = await admin.describeCluster();
    expect(cluster.brokers.length).toBeGreaterThan(0);
    expect(cluster.controller).not.toBeNull();
  });

  it("delivers produced messages to a consumer group, which commits its offsets on the broker", async () => {
    const topic = `smoke-${randomUUID()}`;
    const groupId = `smoke-group-${randomUUID()}`;
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    const sent = Array.from({ length: 30 }, (_, index) => ({ key: `k${index}`, value: `message ${index}` }));

    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: sent });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received: Array<{ key: string; value: string; partition: number }> = [];
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message, partition }) => {
          received.push({ key: String(message.key), value: String(message.value), partition });
          if (received.length === sent.length) resolve();
        },
      });
    });
    const group = await admin.describeGroups([groupId]);
    await consumer.disconnect(); // commits the consumed offsets

    expect(received.map(({ key, value }) => ({ key, value })).sort(byKey)).toEqual([...sent].sort(byKey));
    expect(new Set(received.map(({ partition }) => partition)).size).toBeGreaterThan(1);
    expect(group.groups[0]?.state).toBe("Stable");
    expect(group.groups[0]?.members).toHaveLength(1);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const total = committed?.partitions.reduce((sum, { offset }) => sum + Number(offset), 0);
    expect(total).toBe(sent.length);
  });
});

function byKey(a: { key: string }, b: { key: string }): number {
  return a.key.localeCompare(b.key);
}
