import type { Redis } from "ioredis";
import type { Coordination } from "../bus.ts";
import { createRedisCancels } from "./cancels.ts";
import { createRedisClaims, type FinishClaim, redisFinishClaim } from "./claims.ts";

/**
 * Cancels and claims in Redis, shared by every process. `finishClaim` is the step a request's last
 * reply is published by (bus/redis/replies.ts): the reply and the claim's end are one script.
 */
export function createRedisCoordination(
  redis: Redis,
  keyPrefix: string,
): Coordination & { finishClaim: FinishClaim; close(): Promise<void> } {
  const cancels = createRedisCancels(redis, keyPrefix);
  const finishClaim = redisFinishClaim(redis);
  return {
    cancels,
    claims: createRedisClaims(redis, finishClaim),
    finishClaim,
    close: () => cancels.close(),
  };
}
