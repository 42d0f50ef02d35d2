import type { Redis } from "ioredis";
import { nearestOf, type SemanticIndex } from "./semantic-index.ts";

// KEYS: vectors (hash key → vector), order (sorted set key → time). ARGV: key, vector, now, max.
// Adds the entry and drops the oldest beyond max, in one step.
const addScript = `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[4])
if excess > 0 then
  local old = redis.call('ZRANGE', KEYS[2], 0, excess - 1)
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, excess - 1)
  redis.call('HDEL', KEYS[1], unpack(old))
end
return 0`;

type SemanticCommands = Redis & {
  gatewaySemanticAdd(
    vectors: string,
    order: string,
    key: string,
    vector: Buffer,
    now: number,
    max: number,
  ): Promise<number>;
};

/**
 * The semantic index in Redis, shared by every ingress: per scope a hash of float32 vectors and a
 * sorted set of their age. A search reads the scope's vectors and compares them here.
 */
export function createRedisSemanticIndex(redis: Redis): SemanticIndex {
  const commands = redis as SemanticCommands;
  redis.defineCommand("gatewaySemanticAdd", { numberOfKeys: 2, lua: addScript });
  const keys = (scope: string) => [`semantic:{${scope}}:vectors`, `semantic:{${scope}}:order`] as const;
  return {
    async nearest(scope, vector) {
      const stored = await redis.hgetallBuffer(keys(scope)[0]);
      return nearestOf(
        vector,
        Object.entries(stored).map(([key, packed]): [string, number[]] => [
          key,
          // Copied: a Float32Array needs an aligned buffer, and Redis replies are slices of a shared one.
          Array.from(new Float32Array(Uint8Array.from(packed).buffer)),
        ]),
      );
    },
    async add(scope, key, vector, maxEntries) {
      const [vectors, order] = keys(scope);
      const packed = Buffer.from(new Float32Array(vector).buffer);
      await commands.gatewaySemanticAdd(vectors, order, key, packed, Date.now(), maxEntries);
    },
  };
}
