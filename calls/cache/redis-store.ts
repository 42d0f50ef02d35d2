import type { Redis } from "ioredis";
import { scopePattern } from "./key.ts";
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
    async purge(scope) {
      // SCAN, not KEYS: it never blocks Redis for long. Keys carry the connection's prefix, which
      // the pattern must name and UNLINK must not repeat.
      const prefix = redis.options.keyPrefix ?? "";
      let purged = 0;
      let cursor = "0";
      do {
        const [next, found] = await redis.scan(
          cursor,
          "MATCH",
          `${prefix}${key(scopePattern(scope))}`,
          "COUNT",
          500,
        );
        cursor = next;
        if (found.length > 0) purged += await redis.unlink(...found.map((name) => name.slice(prefix.length)));
      } while (cursor !== "0");
      return purged;
    },
  };
}
