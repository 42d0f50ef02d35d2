import { type Kafka, Partitioners } from "kafkajs";
import type { Registry } from "prom-client";
import type { GatewayConfig } from "../../config/schema.ts";
import type { Logger } from "../../runtime/logger.ts";
import { ServiceUnreachable } from "../../runtime/start-failures.ts";
import type { Messaging } from "../bus.ts";
import type { ReplyReceiver, ReplySender } from "../messaging.ts";
import type { AvroMessage } from "./avro-message.ts";
import { createKafkaBatchResultPublisher, KafkaBatchResultConsumer } from "./batch-results.ts";
import { CoalescingProducer, kafkajsSendBatch, type SendBatch } from "./coalescing-producer.ts";
import { requestLag } from "./consumer-lag.ts";
import { DeadLetters } from "./dead-letters.ts";
import { createKafkaEventPublisher, KafkaEventConsumer } from "./events.ts";
import { PlatformaticBatchResultConsumer } from "./platformatic/batch-result-consumer.ts";
import { PlatformaticEventConsumer } from "./platformatic/event-consumer.ts";
import { createPlatformaticProducer } from "./platformatic/producer.ts";
import { PlatformaticRequestConsumer } from "./platformatic/request-consumer.ts";
import { createKafkaRequestPublisher, KafkaRequestConsumer } from "./requests.ts";
import { deadLetterTopic, ensureTopics } from "./topics.ts";

/** Events wait this long to share a produce request: nobody waits for them, and each request costs CPU on both ends. */
const eventLingerMs = 100;
/** Events a process holds while Kafka is away (a few hundred bytes each): minutes of traffic. */
const maxHeldEvents = 100_000;

/** How replies travel (Redis pub/sub: bus/redis/replies.ts), beside the Kafka topics. */
export interface Replies {
  sender: ReplySender;
  createReceiver(): Promise<ReplyReceiver>;
}

/**
 * Messaging on Kafka: requests per priority, events and batch results on topics of their own
 * (created if missing), undecodable messages kept as dead letters; replies as given.
 */
export async function connectKafkaMessaging(
  kafka: Kafka,
  config: GatewayConfig,
  replies: Replies,
  metrics: Registry,
  log: Logger,
) {
  const admin = kafka.admin();
  const brokers = config.kafka.brokers.join(",");
  let producer: ProcessProducer | undefined;
  try {
    await admin.connect().catch((error: Error) => {
      throw new ServiceUnreachable("Kafka", brokers, "kafka.brokers", error);
    });
    await ensureTopics(admin, config.kafka);
    producer = await connectProducer(kafka, config.kafka);
  } catch (error) {
    await Promise.allSettled([admin.disconnect(), producer?.close()]);
    if (error instanceof ServiceUnreachable) throw error;
    throw new Error(`cannot use Kafka at ${brokers}: ${(error as Error).message}`);
  }
  const requestsOut = new CoalescingProducer<AvroMessage>(producer.sendBatch, 0);
  // Events outlive a broker outage in memory (bounded): their rows land once it is back.
  const eventsOut = new CoalescingProducer<AvroMessage>(producer.sendBatch, eventLingerMs, {
    kind: "hold",
    maxHeld: maxHeldEvents,
    log: log.child({ component: "events-producer" }),
  });
  const deadLetters = new DeadLetters(
    kafka,
    deadLetterTopic(config.kafka),
    metrics,
    log.child({ component: "dead-letters" }),
  );
  const consumerLog = log.child({ component: "consumer" });
  const messaging: Messaging = {
    requests: createKafkaRequestPublisher(requestsOut, config.kafka),
    createConsumer: () =>
      config.kafka.client === "platformatic"
        ? new PlatformaticRequestConsumer(config.kafka, deadLetters, consumerLog)
        : new KafkaRequestConsumer(kafka, config.kafka, deadLetters, consumerLog),
    replies: replies.sender,
    createReplyReceiver: replies.createReceiver,
    events: createKafkaEventPublisher(eventsOut, config.kafka),
    createEventConsumer: () =>
      config.kafka.client === "platformatic"
        ? new PlatformaticEventConsumer(
            config.kafka,
            config.analytics.sink,
            deadLetters,
            log.child({ component: "event-consumer" }),
          )
        : new KafkaEventConsumer(kafka, config.kafka, config.analytics.sink, deadLetters),
    batchResults: createKafkaBatchResultPublisher(requestsOut, config.kafka),
    createBatchResultConsumer: () =>
      config.kafka.client === "platformatic"
        ? new PlatformaticBatchResultConsumer(
            config.kafka,
            deadLetters,
            log.child({ component: "batch-result-consumer" }),
          )
        : new KafkaBatchResultConsumer(kafka, config.kafka, deadLetters),
    retainsRequests: true,
  };
  const closing = producer;
  return {
    ...messaging,
    check: async () => void (await admin.describeCluster()),
    requestLag: () => requestLag(admin, config.kafka),
    async close() {
      await Promise.all([requestsOut.close(), eventsOut.close()]);
      await Promise.allSettled([closing.close(), admin.disconnect(), deadLetters.close()]);
    },
  };
}

interface ProcessProducer {
  sendBatch: SendBatch<AvroMessage>;
  close(): Promise<void>;
}

/**
 * The one producer of the process (requests, events, batch results) on the client `kafka.client`
 * names, as are the consumers. Dead letters and admin are on kafkajs either way.
 */
async function connectProducer(kafka: Kafka, config: GatewayConfig["kafka"]): Promise<ProcessProducer> {
  if (config.client === "platformatic") return createPlatformaticProducer(config);
  const producer = kafka.producer({
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  return { sendBatch: kafkajsSendBatch(producer), close: () => producer.disconnect() };
}
