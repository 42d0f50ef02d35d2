import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, inject, it } from "vitest";

const redis = new Redis(inject("services").redis.url, { keyPrefix: `test:${randomUUID()}:` });
afterAll(() => redis.quit());

// Admits a request only while the counter is below the cap; check and increment are one atomic step.
const admitBelowCap = `
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count >= tonumber(ARGV[1]) then return 0 end
redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

describe("Redis", () => {
  it("runs a Lua script atomically under concurrency", async () => {
    redis.defineCommand("admitBelowCap", { numberOfKeys: 1, lua: admitBelowCap });
    const admit = (
      redis as Redis & { admitBelowCap(key: string, cap: number, ttlMs: number): Promise<number> }
    ).admitBelowCap;
    const results = await Promise.all(
      Array.from({ length: 50 }, () => admit.call(redis, "admitted", 7, 60_000)),
    );
    expect(results.filter((admitted) => admitted === 1)).toHaveLength(7);
    expect(await redis.get("admitted")).toBe("7");
    const ttl = await redis.pttl("admitted");
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it("is a Redis 6 or newer server", async () => {
    const info = await redis.info("server");
    const major = Number(/redis_version:(\d+)/.exec(info)?.[1]);
    expect(major).toBeGreaterThanOrEqual(6);
  });
});
