import { logLevel, Partitioners } from "kafkajs";
import { CoalescingProducer, kafkajsSendBatch } from "../../bus/kafka/coalescing-producer.ts";
import { gatewayLevel } from "../../bus/kafka/kafkajs-log.ts";
import { newKafka } from "../../runtime/kafkajs.ts";
import { type BenchClient, groupSettings, RequestCounter } from "./client.ts";

const kinds: Record<string, string> = {
  Produce: "produce",
  Fetch: "fetch",
  OffsetCommit: "commit",
  Heartbeat: "heartbeat",
  Metadata: "metadata",
};

/**
 * kafkajs as the gateway uses it: made through newKafka (its request-queue timer fixed), requests
 * produced through CoalescingProducer with no linger, consumed with eachMessage and manual commits.
 */
export function kafkajsClient(brokers: string[]): BenchClient {
  const kafka = newKafka({
    clientId: "bench-kafkajs",
    brokers,
    logLevel: logLevel.WARN,
    // At the gateway's levels: a rebalance (each worker's start) is routine, not forty error lines.
    logCreator:
      () =>
      ({ level, log }) => {
        const gatewayLogLevel = gatewayLevel(level, log);
        if (gatewayLogLevel === "error" || gatewayLogLevel === "warn")
          console.error(`kafkajs ${gatewayLogLevel}: ${JSON.stringify(log)}`);
      },
  });
  const requests = new RequestCounter();
  const count = (event: { payload: { apiName: string } }) =>
    requests.add(kinds[event.payload.apiName] ?? event.payload.apiName);
  return {
    async producer() {
      // acks default to -1 (all in-sync replicas), as in the gateway.
      const producer = kafka.producer({
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      producer.on(producer.events.REQUEST, count);
      await producer.connect();
      const coalescing = new CoalescingProducer(kafkajsSendBatch(producer), 0);
      return {
        send: (topic, key, value) => coalescing.send(topic, { key, value }),
        async close() {
          await coalescing.close();
          await producer.disconnect();
        },
      };
    },
    async consume({ groupId, topics, onMessage, onAssigned }) {
      const consumer = kafka.consumer({
        groupId,
        sessionTimeout: groupSettings.sessionTimeoutMs,
        heartbeatInterval: groupSettings.heartbeatIntervalMs,
        maxWaitTimeInMs: groupSettings.maxWaitMs,
        allowAutoTopicCreation: false,
      });
      consumer.on(consumer.events.REQUEST, count);
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) =>
        onAssigned(Object.values(payload.memberAssignment).flat().length),
      );
      await consumer.connect();
      await consumer.subscribe({ topics, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ topic, partition, message }) =>
          onMessage({
            topic,
            partition,
            offset: BigInt(message.offset),
            leaderEpoch: -1,
            key: message.key ?? Buffer.alloc(0),
            value: message.value ?? Buffer.alloc(0),
          }),
      });
      return {
        commit: (points) =>
          consumer.commitOffsets(
            points.map(({ topic, partition, next }) => ({ topic, partition, offset: next.toString() })),
          ),
        close: () => consumer.disconnect(),
      };
    },
    requestCounts: () => requests.snapshot(),
  };
}
