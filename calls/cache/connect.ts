import type { GatewayConfig } from "../../config/schema.ts";
import type { Logger } from "../../runtime/logger.ts";
import { openRedis } from "../../runtime/redis.ts";
import { AnswerCache } from "./answer-cache.ts";
import { createMemoryAnswerStore } from "./memory-store.ts";
import { createRedisSemanticIndex } from "./redis-semantic-index.ts";
import { createRedisAnswerStore } from "./redis-store.ts";
import { createMemorySemanticIndex } from "./semantic-index.ts";

/** The answer cache of an ingress: in Redis (shared by every ingress) when configured, else in memory. */
export async function connectAnswerCache(
  config: GatewayConfig,
  log: Logger,
): Promise<{ cache: AnswerCache; close(): Promise<void> }> {
  const cacheLog = log.child({ component: "cache" });
  if (!config.redis.url) {
    const store = createMemoryAnswerStore(config.cache.maxEntries);
    const index = createMemorySemanticIndex();
    return {
      cache: new AnswerCache(store, index, config.cache.maxEntryBytes, cacheLog),
      close: async () => {},
    };
  }
  // With Redis down the gateway starts all the same, and the cache says "unavailable" until it is back.
  const redis = openRedis(config.redis, true);
  await redis
    .connect()
    .catch(() => cacheLog.warn("Redis is not reachable; the answer cache is skipped until it is"));
  return {
    cache: new AnswerCache(
      createRedisAnswerStore(redis),
      createRedisSemanticIndex(redis),
      config.cache.maxEntryBytes,
      cacheLog,
    ),
    close: async () => {
      redis.disconnect();
    },
  };
}
