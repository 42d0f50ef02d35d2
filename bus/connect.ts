import { Registry } from "prom-client";
import type { GatewayConfig } from "../config/schema.ts";
import type { Logger } from "../runtime/logger.ts";
import { connectRedis } from "../runtime/redis.ts";
import type { Priority } from "../schemas/request-envelope.ts";
import type { Bus } from "./bus.ts";
import { createInProcessBus } from "./in-process/bus.ts";
import { createKafka } from "./kafka/client.ts";
import { connectKafkaMessaging } from "./kafka/messaging.ts";
import { createRedisCoordination } from "./redis/coordination.ts";
import { createRedisReplyReceiver, createRedisReplySender } from "./redis/replies.ts";

export interface ConnectedBus extends Bus {
  /** Health checks of what the bus runs on. */
  readonly checks: Array<{ name: string; check(): Promise<void> }>;
  /** On Kafka: the requests of each priority the workers have not committed (bus/kafka/consumer-lag.ts). */
  readonly requestLag?: () => Promise<Record<Priority, number>>;
}

/**
 * The in-process bus when no Kafka is configured; otherwise messaging on Kafka (replies on Redis
 * pub/sub) and coordination in Redis. `metrics`: where the bus counts what it does (dead letters).
 */
export async function connectBus(
  config: GatewayConfig,
  log: Logger,
  metrics: Registry = new Registry(),
): Promise<ConnectedBus> {
  if (config.kafka.brokers.length === 0) return { ...createInProcessBus(config.analytics.sink), checks: [] };

  const redis = await connectRedis(config.redis);
  const coordination = createRedisCoordination(redis, config.redis.keyPrefix);
  const messaging = await connectKafkaMessaging(
    createKafka(config.kafka, log),
    config,
    {
      sender: createRedisReplySender(redis, coordination.finishClaim),
      createReceiver: () => createRedisReplyReceiver(redis, config.redis.keyPrefix),
    },
    metrics,
    log,
  ).catch((error: Error) => {
    redis.disconnect();
    throw error;
  });
  log.info({ brokers: config.kafka.brokers, client: config.kafka.client }, "connected to Kafka and Redis");
  const { check, requestLag, close: closeMessaging, ...kafkaMessaging } = messaging;
  return {
    kind: "kafka",
    ...kafkaMessaging,
    cancels: coordination.cancels,
    claims: coordination.claims,
    checks: [
      { name: "kafka", check },
      { name: "redis", check: async () => void (await redis.ping()) },
    ],
    requestLag,
    async close() {
      await closeMessaging();
      await coordination.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
