import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { BreakerState, BreakerStore } from "./store.ts";

/*
 * Per deployment: `breaker:{d}:recent`, its failures of the last `retentionMs` (a sorted set scored
 * by time, so each route counts those within its own window); `breaker:{d}:open`, the instant (ms)
 * until which it is open, kept until the breaker closes; `breaker:{d}:probe`, held by the one
 * request probing a half-open deployment. Times come from the Redis server, so workers with skewed
 * clocks agree.
 */
// KEYS: open, probe. ARGV: probe lifetime. A probe only while half-open, and one at a time.
const probeScript = `
local now = redis.call('TIME')
local ms = now[1] * 1000 + math.floor(now[2] / 1000)
local openUntil = tonumber(redis.call('GET', KEYS[1]))
if not openUntil or ms < openUntil then return 0 end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then return 1 end
return 0`;

// KEYS: recent, open, probe. ARGV: threshold, window, cooldown, open-for (0: none), retention, a unique member.
const failureScript = `
local now = redis.call('TIME')
local ms = now[1] * 1000 + math.floor(now[2] / 1000)
local openUntil = tonumber(redis.call('GET', KEYS[2]))
local probing = openUntil and ms >= openUntil
redis.call('ZADD', KEYS[1], ms, ARGV[6])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ms - tonumber(ARGV[5]))
redis.call('PEXPIRE', KEYS[1], ARGV[5])
local count = redis.call('ZCOUNT', KEYS[1], '(' .. (ms - tonumber(ARGV[2])), '+inf')
local openFor = tonumber(ARGV[4])
if openFor > 0 or probing or count >= tonumber(ARGV[1]) then
  if openFor == 0 then openFor = tonumber(ARGV[3]) end
  redis.call('SET', KEYS[2], ms + openFor)
  redis.call('DEL', KEYS[1], KEYS[3])
end
return 0`;

type BreakerCommands = Redis & {
  gatewayBreakerProbe(open: string, probe: string, lifetimeMs: number): Promise<number>;
  gatewayBreakerFailure(
    recent: string,
    open: string,
    probe: string,
    threshold: number,
    windowMs: number,
    cooldownMs: number,
    openForMs: number,
    retentionMs: number,
    member: string,
  ): Promise<number>;
};

/**
 * Circuit breakers in Redis, shared by every worker: each operation is one atomic script.
 * Failures are kept for `retentionMs`, the longest window of any route.
 */
export function createRedisBreakers(redis: Redis, retentionMs: number): BreakerStore {
  const commands = redis as BreakerCommands;
  redis.defineCommand("gatewayBreakerProbe", { numberOfKeys: 2, lua: probeScript });
  redis.defineCommand("gatewayBreakerFailure", { numberOfKeys: 3, lua: failureScript });
  const key = (deployment: string, part: "recent" | "open" | "probe") => `breaker:{${deployment}}:${part}`;
  return {
    async states(deployments) {
      if (deployments.length === 0) return [];
      // Separate reads (auto-pipelined into one round trip) rather than one script: the keys of
      // different deployments may live on different nodes of a Redis Cluster.
      const [[seconds, micros], ...opens] = await Promise.all([
        redis.time(),
        ...deployments.map((deployment) => redis.get(key(deployment, "open"))),
      ]);
      const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
      return opens.map((open): BreakerState => {
        if (open === null) return { state: "closed" };
        const reopensInMs = Number(open) - now;
        return reopensInMs > 0 ? { state: "open", reopensInMs } : { state: "half_open" };
      });
    },
    async tryProbe(deployment, settings) {
      return (
        (await commands.gatewayBreakerProbe(
          key(deployment, "open"),
          key(deployment, "probe"),
          settings.breakerCooldownMs,
        )) === 1
      );
    },
    async failure(deployment, settings, openForMs) {
      await commands.gatewayBreakerFailure(
        key(deployment, "recent"),
        key(deployment, "open"),
        key(deployment, "probe"),
        settings.breakerFailures,
        settings.breakerWindowMs,
        settings.breakerCooldownMs,
        Math.max(0, Math.ceil(openForMs ?? 0)),
        retentionMs,
        randomUUID(),
      );
    },
    async probeSucceeded(deployment) {
      await redis.del(key(deployment, "open"), key(deployment, "probe"), key(deployment, "recent"));
    },
  };
}
