import type { GatewayConfig } from "../../config/schema.ts";
import { connectRedis } from "../../runtime/redis.ts";
import { createInProcessBreakers } from "./breakers/in-process.ts";
import { createRedisBreakers } from "./breakers/redis.ts";
import type { BreakerStore } from "./breakers/store.ts";
import { createInProcessQuotas } from "./quotas/in-process.ts";
import { createRedisQuotas } from "./quotas/redis.ts";
import type { QuotaStore } from "./quotas/store.ts";

/** What routing shares between workers: each deployment's circuit breaker and quotas. */
export interface RoutingState {
  breakers: BreakerStore;
  quotas: QuotaStore;
  close(): Promise<void>;
}

/**
 * Breakers and quotas in Redis, shared by every worker, when workers are many (the Kafka bus);
 * else in this process. A connection of their own: their commands never queue behind replies.
 */
export async function connectRoutingState(config: GatewayConfig): Promise<RoutingState> {
  // Failures are kept as long as the longest window of any route counts them.
  const retentionMs = Math.max(
    config.routing.breakerWindowMs,
    ...config.models.map((model) => model.failover?.breakerWindowMs ?? 0),
  );
  // A call's quota lease lapses when its request's deadline has surely passed (its worker died).
  const leaseLimitMs = config.ingress.requestTimeoutMs;
  if (config.kafka.brokers.length === 0)
    return {
      breakers: createInProcessBreakers(retentionMs),
      quotas: createInProcessQuotas(leaseLimitMs),
      close: async () => {},
    };
  const redis = await connectRedis(config.redis);
  return {
    breakers: createRedisBreakers(redis, retentionMs),
    quotas: createRedisQuotas(redis, leaseLimitMs),
    close: async () => void (await redis.quit().catch(() => redis.disconnect())),
  };
}
