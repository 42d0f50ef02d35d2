import {
  Consumer,
  connectionsApiChannel,
  MessagesStreamFallbackModes,
  MessagesStreamModes,
  ProduceAcks,
  Producer,
} from "@platformatic/kafka";
import { CoalescingProducer } from "../../bus/kafka/coalescing-producer.ts";
import { platformaticSendBatch } from "../../bus/kafka/platformatic/producer.ts";
import { type BenchClient, groupSettings, RequestCounter } from "./client.ts";

/** Kafka's API keys of the requests counted by kind. */
const kinds: Record<number, string> = {
  0: "produce",
  1: "fetch",
  3: "metadata",
  8: "commit",
  12: "heartbeat",
};

/**
 * @platformatic/kafka set up as kafkajs is in the gateway: acks from all in-sync replicas (its own
 * default is the leader's alone), not idempotent, keyed messages on the murmur2 partitioner, one
 * send per event-loop turn, a consumer group reading from its committed offsets with manual commits.
 */
export function platformaticClient(brokers: string[]): BenchClient {
  const requests = new RequestCounter();
  // Every request of the process passes this channel (the library publishes to it whether or not
  // anyone listens); counting on it is what kafkajs's REQUEST event is to the other client.
  connectionsApiChannel.start.subscribe((event) => {
    const apiKey = (event as { apiKey?: number }).apiKey;
    requests.add(kinds[apiKey ?? -1] ?? "other");
  });
  const base = { clientId: "bench-platformatic", bootstrapBrokers: brokers };
  return {
    async producer() {
      const producer = new Producer({ ...base, acks: ProduceAcks.ALL, idempotent: false });
      const batcher = new CoalescingProducer(platformaticSendBatch(producer), 0);
      return {
        send: (topic, key, value) => batcher.send(topic, { key, value }),
        async close() {
          await batcher.close();
          await producer.close();
        },
      };
    },
    async consume({ groupId, topics, onMessage, onAssigned }) {
      const consumer = new Consumer({
        ...base,
        groupId,
        sessionTimeout: groupSettings.sessionTimeoutMs,
        heartbeatInterval: groupSettings.heartbeatIntervalMs,
        maxWaitTime: groupSettings.maxWaitMs,
        autocommit: false,
      });
      consumer.on("consumer:group:join", ({ assignments }) =>
        onAssigned((assignments ?? []).reduce((sum, { partitions }) => sum + partitions.length, 0)),
      );
      const stream = await consumer.consume({
        topics,
        mode: MessagesStreamModes.COMMITTED,
        fallbackMode: MessagesStreamFallbackModes.EARLIEST,
      });
      stream.on("data", (message) =>
        onMessage({
          topic: message.topic,
          partition: message.partition,
          offset: message.offset,
          leaderEpoch: message.leaderEpoch,
          key: message.key,
          value: message.value,
        }),
      );
      return {
        commit: (points) =>
          consumer.commit({
            offsets: points.map(({ topic, partition, next, leaderEpoch }) => ({
              topic,
              partition,
              offset: next,
              leaderEpoch,
            })),
          }),
        async close() {
          await stream.close();
          await consumer.close();
        },
      };
    },
    requestCounts: () => requests.snapshot(),
  };
}
