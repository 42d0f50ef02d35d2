import { type Kafka, Partitioners } from "kafkajs";
import type { Registry } from "prom-client";
import type { GatewayConfig } from "../../config/schema.ts";
import type { Logger } from "../../runtime/logger.ts";
import { ServiceUnreachable } from "../../runtime/start-failures.ts";
import type { Messaging } from "../bus.ts";
import type { ReplyReceiver, ReplySender, RequestConsumer, RequestPublisher } from "../messaging.ts";
import type { AvroMessage } from "./avro-message.ts";
import { createKafkaBatchResultPublisher, KafkaBatchResultConsumer } from "./batch-results.ts";
import { CoalescingProducer, kafkajsSendBatch } from "./coalescing-producer.ts";
import { requestLag } from "./consumer-lag.ts";
import { DeadLetters } from "./dead-letters.ts";
import { createKafkaEventPublisher, KafkaEventConsumer } from "./events.ts";
import { PlatformaticRequestConsumer } from "./platformatic/request-consumer.ts";
import { createPlatformaticRequestPublisher } from "./platformatic/request-publisher.ts";
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
  const producer = kafka.producer({
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  const brokers = config.kafka.brokers.join(",");
  try {
    await admin.connect().catch((error: Error) => {
      throw new ServiceUnreachable("Kafka", brokers, "kafka.brokers", error);
    });
    await ensureTopics(admin, config.kafka);
    await producer.connect();
  } catch (error) {
    await Promise.allSettled([admin.disconnect(), producer.disconnect()]);
    if (error instanceof ServiceUnreachable) throw error;
    throw new Error(`cannot use Kafka at ${brokers}: ${(error as Error).message}`);
  }
  const requestsOut = new CoalescingProducer<AvroMessage>(kafkajsSendBatch(producer), 0);
  // Events outlive a broker outage in memory (bounded): their rows land once it is back.
  const eventsOut = new CoalescingProducer<AvroMessage>(kafkajsSendBatch(producer), eventLingerMs, {
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
  const requestPath = connectRequestPath(kafka, config, requestsOut, deadLetters, log);
  const messaging: Messaging = {
    requests: requestPath.publisher,
    createConsumer: requestPath.createConsumer,
    replies: replies.sender,
    createReplyReceiver: replies.createReceiver,
    events: createKafkaEventPublisher(eventsOut, config.kafka),
    createEventConsumer: () =>
      new KafkaEventConsumer(kafka, config.kafka, config.analytics.sink, deadLetters),
    batchResults: createKafkaBatchResultPublisher(requestsOut, config.kafka),
    createBatchResultConsumer: () => new KafkaBatchResultConsumer(kafka, config.kafka, deadLetters),
    retainsRequests: true,
  };
  return {
    ...messaging,
    check: async () => void (await admin.describeCluster()),
    requestLag: () => requestLag(admin, config.kafka),
    async close() {
      await Promise.all([requestsOut.close(), eventsOut.close(), requestPath.close()]);
      await Promise.allSettled([producer.disconnect(), admin.disconnect(), deadLetters.close()]);
    },
  };
}

/** Requests to the workers on the client `kafka.client` names; the rest of the bus is on kafkajs. */
function connectRequestPath(
  kafka: Kafka,
  config: GatewayConfig,
  requestsOut: CoalescingProducer,
  deadLetters: DeadLetters,
  log: Logger,
): { publisher: RequestPublisher; createConsumer(): RequestConsumer; close(): Promise<void> } {
  const consumerLog = log.child({ component: "consumer" });
  if (config.kafka.client === "platformatic") {
    return {
      ...createPlatformaticRequestPublisher(config.kafka),
      createConsumer: () => new PlatformaticRequestConsumer(config.kafka, deadLetters, consumerLog),
    };
  }
  return {
    publisher: createKafkaRequestPublisher(requestsOut, config.kafka),
    createConsumer: () => new KafkaRequestConsumer(kafka, config.kafka, deadLetters, consumerLog),
    close: async () => {}, // requestsOut is closed with the rest
  };
}
