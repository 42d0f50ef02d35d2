import { randomUUID } from "node:crypto";
import avro from "avsc";
import { logLevel } from "kafkajs";
import { describe, expect, inject, it } from "vitest";
import { newKafka } from "../../runtime/kafkajs.ts";

const { brokers } = inject("services").kafka;

const sampleType = avro.Type.forSchema({
  type: "record",
  name: "Sample",
  namespace: "gateway.smoke",
  fields: [
    { name: "id", type: "string" },
    {
      name: "priority",
      type: { type: "enum", name: "Priority", symbols: ["interactive", "default", "batch"] },
    },
    { name: "receivedAtMs", type: "long" },
    { name: "tags", type: { type: "map", values: "string" } },
    { name: "body", type: "bytes" },
    { name: "deadlineMs", type: ["null", "long"], default: null },
  ],
});

describe("Avro over Kafka", () => {
  it("round-trips an avsc-encoded record byte for byte through a topic", async () => {
    const kafka = newKafka({ clientId: "smoke-avro", brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const topic = `smoke-avro-${randomUUID()}`;
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();

    const record = {
      id: randomUUID(),
      priority: "interactive",
      receivedAtMs: 1_764_000_000_123,
      tags: { team: "search", env: "prod" },
      body: Buffer.from(JSON.stringify({ model: "mock", messages: [{ role: "user", content: "héllo ✓" }] })),
      deadlineMs: 1_764_000_030_123,
    };
    const encoded = sampleType.toBuffer(record);

    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ key: record.id, value: encoded }] });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: `smoke-avro-${randomUUID()}`, maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const value = await new Promise<Buffer>((resolve) => {
      void consumer.run({ eachMessage: async ({ message }) => resolve(message.value as Buffer) });
    });
    await consumer.disconnect();

    expect(value.equals(encoded)).toBe(true);
    expect(sampleType.fromBuffer(value)).toEqual(record);
    // Avro's binary form: no field names on the wire.
    expect(value.includes(Buffer.from("receivedAtMs"))).toBe(false);
  });
});
