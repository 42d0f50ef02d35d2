import type { GatewayConfig } from "../../config/schema.ts";
import type { Logger } from "../../runtime/logger.ts";
import { openRedis } from "../../runtime/redis.ts";
import { createDiskResponseStore } from "./disk-store.ts";
import { createRedisResponseStore } from "./redis-store.ts";
import type { ResponseStore } from "./store.ts";

/**
 * The stored responses of a process, kept where its batch jobs are: Redis when configured (every
 * ingress of a deployment shares them), else local disk (one process, the embedded default).
 */
export async function connectResponseStore(
  config: GatewayConfig,
  log: Logger,
): Promise<{ store: ResponseStore; close(): Promise<void> }> {
  const ttlMs = config.responses.ttlSeconds * 1000;
  if (!config.redis.url) {
    const store = await createDiskResponseStore(config.responses.directory, ttlMs);
    return { store, close: () => store.close() };
  }
  // Without Redis, storing and continuing responses fail until it is back; stateless calls go on.
  const redis = openRedis(config.redis, true);
  await redis.connect().catch(() => log.warn("Redis is not reachable; stored responses wait until it is"));
  const store = createRedisResponseStore(redis, ttlMs);
  return {
    store,
    async close() {
      await store.close();
      redis.disconnect();
    },
  };
}
