import { Partitioners } from "kafkajs";
import { Registry } from "prom-client";
import type { GatewayConfig } from "../config/schema.ts";
import type { Logger } from "../runtime/logger.ts";
import { connectRedis } from "../runtime/redis.ts";
import type { Priority } from "../schemas/request-envelope.ts";
import type { Bus } from "./contracts.ts";
import { createInProcessBus } from "./in-process/bus.ts";
import { createKafkaBatchResultPublisher, KafkaBatchResultConsumer } from "./kafka/batch-results.ts";
import { createKafka } from "./kafka/client.ts";
import { CoalescingProducer } from "./kafka/coalescing-producer.ts";
import { requestLag } from "./kafka/consumer-lag.ts";
import { DeadLetters } from "./kafka/dead-letters.ts";
import { createKafkaEventPublisher, KafkaEventConsumer } from "./kafka/events.ts";
import { createKafkaRequestPublisher, KafkaRequestConsumer } from "./kafka/requests.ts";
import { deadLetterTopic, ensureTopics } from "./kafka/topics.ts";
import { createRedisBreakers } from "./redis/breakers.ts";
import { createRedisCancels } from "./redis/cancels.ts";
import { createRedisClaims, redisFinishClaim } from "./redis/claims.ts";
import { createRedisQuotas } from "./redis/quotas.ts";
import { createRedisReplyReceiver, createRedisReplySender } from "./redis/replies.ts";

/** Events wait this long to share a produce request: nobody waits for them, and each request costs CPU on both ends. */
const eventLingerMs = 100;
/** Events a process holds while Kafka is away (a few hundred bytes each): minutes of traffic. */
const maxHeldEvents = 100_000;

export interface ConnectedBus extends Bus {
  /** Health checks of what the bus runs on. */
  readonly checks: Array<{ name: string; check(): Promise<void> }>;
  /** On Kafka: the requests of each priority the workers have not committed (bus/kafka/consumer-lag.ts). */
  readonly requestLag?: () => Promise<Record<Priority, number>>;
}

/**
 * The in-process bus when no Kafka is configured; otherwise Kafka for requests (topics created if
 * missing) and Redis for replies, cancels and claims. `metrics`: where the bus counts what it does
 * (dead letters).
 */
export async function connectBus(
  config: GatewayConfig,
  log: Logger,
  metrics: Registry = new Registry(),
): Promise<ConnectedBus> {
  const breakers = {
    failures: config.routing.breakerFailures,
    windowMs: config.routing.breakerWindowMs,
    cooldownMs: config.routing.breakerCooldownMs,
  };
  // A call's quota lease lapses when its request's deadline has surely passed (its worker died).
  const leaseLimitMs = config.ingress.requestTimeoutMs;
  if (config.kafka.brokers.length === 0) return { ...createInProcessBus(breakers, leaseLimitMs), checks: [] };

  const redis = await connectRedis(config.redis);
  const kafka = createKafka(config.kafka, log);
  const admin = kafka.admin();
  const producer = kafka.producer({
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  try {
    await admin.connect();
    await ensureTopics(admin, config.kafka);
    await producer.connect();
  } catch (error) {
    redis.disconnect();
    await Promise.allSettled([admin.disconnect(), producer.disconnect()]);
    throw new Error(`cannot use Kafka at ${config.kafka.brokers.join(",")}: ${(error as Error).message}`);
  }
  log.info({ brokers: config.kafka.brokers }, "connected to Kafka and Redis");
  const cancels = createRedisCancels(redis, config.redis.keyPrefix);
  const finishClaim = redisFinishClaim(redis);
  const requestsOut = new CoalescingProducer(producer, 0);
  // Events outlive a broker outage in memory (bounded): their rows land once it is back.
  const eventsOut = new CoalescingProducer(producer, eventLingerMs, {
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
  return {
    kind: "kafka",
    requests: createKafkaRequestPublisher(requestsOut, config.kafka),
    createConsumer: () =>
      new KafkaRequestConsumer(kafka, config.kafka, deadLetters, log.child({ component: "consumer" })),
    replies: createRedisReplySender(redis, finishClaim),
    createReplyReceiver: () => createRedisReplyReceiver(redis, config.redis.keyPrefix),
    cancels,
    claims: createRedisClaims(redis, finishClaim),
    breakers: createRedisBreakers(redis, breakers),
    quotas: createRedisQuotas(redis, leaseLimitMs),
    events: createKafkaEventPublisher(eventsOut, config.kafka),
    createEventConsumer: () =>
      new KafkaEventConsumer(kafka, config.kafka, config.analytics.sink, deadLetters),
    batchResults: createKafkaBatchResultPublisher(requestsOut, config.kafka),
    createBatchResultConsumer: () => new KafkaBatchResultConsumer(kafka, config.kafka, deadLetters),
    retainsRequests: true,
    checks: [
      { name: "kafka", check: async () => void (await admin.describeCluster()) },
      { name: "redis", check: async () => void (await redis.ping()) },
    ],
    requestLag: () => requestLag(admin, config.kafka),
    async close() {
      await Promise.all([requestsOut.close(), eventsOut.close()]);
      await cancels.close();
      await Promise.allSettled([producer.disconnect(), admin.disconnect(), deadLetters.close()]);
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
