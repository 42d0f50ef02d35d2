import type { GatewayConfig } from "../config/schema.ts";
import type { Logger } from "../runtime/logger.ts";
import { openRedis } from "../runtime/redis.ts";
import { createDiskBatchStore } from "./disk-store.ts";
import { createRedisBatchStore } from "./redis-store.ts";
import type { BatchStore } from "./store.ts";

/**
 * The batch store of a process: Redis when configured (every process of a deployment shares it),
 * else local disk (one process, the embedded default). See README, "Batch jobs".
 */
export async function connectBatchStore(
  config: GatewayConfig,
  log: Logger,
): Promise<{ store: BatchStore; close(): Promise<void> }> {
  if (!config.redis.url) {
    const store = await createDiskBatchStore(config.batches.directory);
    return { store, close: () => store.close() };
  }
  // Without Redis, batch calls fail (and coordinators retry each tick) until it is back; the rest
  // of the gateway keeps serving, as it does when the answer cache is down.
  const redis = openRedis(config.redis, true);
  await redis.connect().catch(() => log.warn("Redis is not reachable; batch jobs wait until it is"));
  const store = createRedisBatchStore(redis);
  return {
    store,
    async close() {
      await store.close();
      redis.disconnect();
    },
  };
}
