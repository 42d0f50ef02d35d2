import type { Redis } from "ioredis";
import type { AnswerStore, CachedAnswer } from "./store.ts";

/** Answers in Redis, shared by every ingress; Redis's own expiry and eviction policy bound them. */
export function createRedisAnswerStore(redis: Redis): AnswerStore {
  const key = (cacheKey: string) => `cache:${cacheKey}`;
  return {
    async get(cacheKey) {
      const value = await redis.get(key(cacheKey));
      return value === null ? undefined : (JSON.parse(value) as CachedAnswer);
    },
    async set(cacheKey, answer, ttlMs) {
      await redis.set(key(cacheKey), JSON.stringify(answer), "PX", Math.max(1, Math.round(ttlMs)));
    },
  };
}
