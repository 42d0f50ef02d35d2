import type { GatewayConfig } from "../config/schema.ts";
import { connectRedis } from "../runtime/redis.ts";
import { createDiskBatchStore } from "./disk-store.ts";
import { createRedisBatchStore } from "./redis-store.ts";
import type { BatchStore } from "./store.ts";

/**
 * The batch store of a process: Redis when configured (every process of a deployment shares it),
 * else local disk (one process, the embedded default). See README, "Batch jobs".
 */
export async function connectBatchStore(
  config: GatewayConfig,
): Promise<{ store: BatchStore; close(): Promise<void> }> {
  if (!config.redis.url) {
    const store = await createDiskBatchStore(config.batches.directory);
    return { store, close: () => store.close() };
  }
  // Unlike the cache, batches need Redis: a batch accepted and then lost is worse than a refusal at start.
  const redis = await connectRedis(config.redis);
  const store = createRedisBatchStore(redis);
  return {
    store,
    async close() {
      await store.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
