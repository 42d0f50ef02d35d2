import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { QuotaStore } from "./store.ts";
import { minuteWindow } from "./window.ts";

/*
 * Per deployment (one hash slot, `{deployment}`): `leases`, a sorted set of running calls scored by
 * when their lease lapses; per minute `rpm:<minute>` and `tpm:<minute>` counters. Requests and
 * tokens per minute are a sliding window approximated from this minute's and the last minute's
 * counters (the last weighted by how much of it is still inside the window).
 * KEYS: leases, rpm now, rpm before, tpm now, tpm before.
 * ARGV: now, lease id, lease lapses at, concurrency, rpm, tpm, tokens, weight of the last minute, ms to next minute.
 */
const acquireScript = `
local now = tonumber(ARGV[1])
local concurrency, rpm, tpm = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local tokens, before = tonumber(ARGV[7]), tonumber(ARGV[8])
local function windowed(current, previous)
  return tonumber(redis.call('GET', previous) or '0') * before + tonumber(redis.call('GET', current) or '0')
end
if concurrency > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
  if redis.call('ZCARD', KEYS[1]) >= concurrency then return 100 end
end
if rpm > 0 and windowed(KEYS[2], KEYS[3]) + 1 > rpm then return tonumber(ARGV[9]) end
if tpm > 0 and windowed(KEYS[4], KEYS[5]) + math.min(tokens, tpm) > tpm then return tonumber(ARGV[9]) end
if concurrency > 0 then
  redis.call('ZADD', KEYS[1], tonumber(ARGV[3]), ARGV[2])
  redis.call('PEXPIRE', KEYS[1], math.max(1, tonumber(ARGV[3]) - now))
end
if rpm > 0 then redis.call('INCR', KEYS[2]) redis.call('PEXPIRE', KEYS[2], 120000) end
if tpm > 0 then redis.call('INCRBY', KEYS[4], math.min(tokens, tpm)) redis.call('PEXPIRE', KEYS[4], 120000) end
return 0`;

// KEYS: leases, tpm of the minute the lease was taken. ARGV: lease id, token correction.
const releaseScript = `
redis.call('ZREM', KEYS[1], ARGV[1])
local correction = tonumber(ARGV[2])
if correction ~= 0 and redis.call('EXISTS', KEYS[2]) == 1 then redis.call('INCRBY', KEYS[2], correction) end
return 0`;

type QuotaCommands = Redis & {
  gatewayQuotaAcquire(...args: Array<string | number>): Promise<number>;
  gatewayQuotaRelease(leases: string, tpm: string, lease: string, correction: number): Promise<number>;
};

/** Deployment quotas in Redis, counted across every worker; each operation one atomic script. */
export function createRedisQuotas(redis: Redis, leaseLimitMs: number): QuotaStore {
  const commands = redis as QuotaCommands;
  redis.defineCommand("gatewayQuotaAcquire", { numberOfKeys: 5, lua: acquireScript });
  redis.defineCommand("gatewayQuotaRelease", { numberOfKeys: 2, lua: releaseScript });
  const key = (deployment: string, part: string) => `quota:{${deployment}}:${part}`;
  return {
    async acquire(deployment, limits, tokens) {
      const now = Date.now();
      const window = minuteWindow(now);
      const lease = `${window.minute}:${randomUUID()}`;
      const retryInMs = await commands.gatewayQuotaAcquire(
        key(deployment, "leases"),
        key(deployment, `rpm:${window.minute}`),
        key(deployment, `rpm:${window.minute - 1}`),
        key(deployment, `tpm:${window.minute}`),
        key(deployment, `tpm:${window.minute - 1}`),
        now,
        lease,
        now + leaseLimitMs,
        limits.concurrency ?? 0,
        limits.requestsPerMinute ?? 0,
        limits.tokensPerMinute ?? 0,
        Math.ceil(tokens),
        window.previousWeight,
        window.msToNextMinute,
      );
      return retryInMs === 0 ? { granted: true, lease } : { granted: false, retryInMs };
    },
    async release(deployment, lease, estimatedTokens, usedTokens) {
      const minute = lease.slice(0, lease.indexOf(":"));
      await commands.gatewayQuotaRelease(
        key(deployment, "leases"),
        key(deployment, `tpm:${minute}`),
        lease,
        Math.round(usedTokens - estimatedTokens),
      );
    },
    async usage(deployment) {
      const now = Date.now();
      const window = minuteWindow(now);
      // Several keys of one hash slot: one round trip, read only.
      const answers = (await redis
        .multi()
        .zcount(key(deployment, "leases"), `(${now}`, "+inf")
        .get(key(deployment, `rpm:${window.minute}`))
        .get(key(deployment, `rpm:${window.minute - 1}`))
        .get(key(deployment, `tpm:${window.minute}`))
        .get(key(deployment, `tpm:${window.minute - 1}`))
        .exec()) as Array<[Error | null, unknown]>;
      const [concurrent, rpmNow, rpmBefore, tpmNow, tpmBefore] = answers.map(([error, value]) => {
        if (error) throw error;
        return Number(value ?? 0);
      }) as [number, number, number, number, number];
      const windowed = (current: number, previous: number) =>
        Math.round(previous * window.previousWeight + current);
      return {
        concurrent,
        requestsPerMinute: windowed(rpmNow, rpmBefore),
        tokensPerMinute: windowed(tpmNow, tpmBefore),
      };
    },
  };
}
