import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { logLevel, Partitioners } from "kafkajs";
import { newKafka } from "../runtime/kafkajs.ts";
import { summary } from "./stats.ts";

/**
 * One-way latency of a small reply message (about the size of a token event) through each
 * candidate reply channel, at a steady 1,000 messages per second. Sender and receiver share a
 * process, so both timestamps come from one clock.
 */
export async function measureReplyChannels(
  endpoints: { redisUrl: string; kafkaBrokers: string[] },
  count = 5_000,
) {
  const payload = Buffer.alloc(120, 7);
  const rateMs = 1;

  async function measure(
    send: (message: Buffer) => Promise<unknown>,
    subscribe: (onMessage: (message: Buffer) => void) => Promise<void>,
  ) {
    const latencies: number[] = [];
    let done: () => void = () => {};
    const finished = new Promise<void>((resolve) => {
      done = resolve;
    });
    await subscribe((message) => {
      latencies.push(performance.now() - message.readDoubleLE(0));
      if (latencies.length === count) done();
    });
    for (let index = 0; index < count; index++) {
      const message = Buffer.from(payload);
      message.writeDoubleLE(performance.now(), 0);
      void send(message);
      if (index % 10 === 9) await new Promise((resolve) => setTimeout(resolve, rateMs * 10));
    }
    const lost = await Promise.race([
      finished.then(() => 0),
      new Promise<number>((resolve) => setTimeout(() => resolve(count - latencies.length), 30_000)),
    ]);
    if (lost > 0) throw new Error(`${lost} of ${count} messages never arrived`);
    return summary(latencies);
  }

  const results: Record<string, ReturnType<typeof summary>> = {};

  {
    const publisher = new Redis(endpoints.redisUrl);
    const subscriber = new Redis(endpoints.redisUrl);
    const channel = `bench:${randomUUID()}`;
    results["Redis pub/sub"] = await measure(
      (message) => publisher.publish(channel, message),
      async (onMessage) => {
        subscriber.on("messageBuffer", (_channel: Buffer, message: Buffer) => onMessage(message));
        await subscriber.subscribe(channel);
      },
    );
    publisher.disconnect();
    subscriber.disconnect();
  }

  {
    const writer = new Redis(endpoints.redisUrl);
    const reader = new Redis(endpoints.redisUrl);
    const stream = `bench:${randomUUID()}`;
    let running = true;
    results["Redis Streams (XADD / XREAD BLOCK)"] = await measure(
      (message) => writer.xadd(stream, "MAXLEN", "~", "10000", "*", "m", message),
      async (onMessage) => {
        void (async () => {
          let last = "0-0"; // the stream is new: read it from its start
          while (running) {
            const batch = (await reader.xreadBuffer("BLOCK", 1000, "STREAMS", stream, last)) as Array<
              [Buffer, Array<[Buffer, Buffer[]]>]
            > | null;
            for (const [, entries] of batch ?? []) {
              for (const [id, fields] of entries) {
                last = id.toString();
                onMessage(fields[1] as Buffer);
              }
            }
          }
        })().catch((error: Error) => {
          if (running) throw error; // after the measurement, the blocked read fails as its connection closes
        });
      },
    );
    running = false;
    await writer.del(stream);
    writer.disconnect();
    reader.disconnect();
  }

  {
    const kafka = newKafka({ brokers: endpoints.kafkaBrokers, logLevel: logLevel.NOTHING });
    const topic = `bench-replies-${randomUUID()}`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const consumer = kafka.consumer({ groupId: `bench-${randomUUID()}`, maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    results["Kafka reply topic (acks=1)"] = await measure(
      (message) => producer.send({ topic, acks: 1, messages: [{ value: message }] }),
      async (onMessage) => {
        await consumer.run({ eachMessage: async ({ message }) => onMessage(message.value as Buffer) });
        await joined;
      },
    );
    await Promise.all([consumer.disconnect(), producer.disconnect()]);
    await admin.deleteTopics({ topics: [topic] });
    await admin.disconnect();
  }
  return results;
}
