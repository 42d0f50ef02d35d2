import type { Redis } from "ioredis";
import type { RateDecision, RateLimiter, RateSubject } from "../contracts.ts";
import { combine, type Meter, type MeterState, metersOf, windowMs } from "./gcra.ts";

/**
 * gcra.ts's `decide` over every meter of a request in one script: all are admitted or none. Each
 * meter is one key holding its theoretical arrival time, expiring when the meter is empty again.
 * ARGV: now, window, then cost and limit of each key. Answers allowed, next tat, remaining, reset
 * and retry-after for each key (as strings: Lua numbers would be truncated to integers).
 */
const admitScript = `
local now, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local states, admit = {}, true
for i = 1, #KEYS do
  local cost, limit = tonumber(ARGV[1 + 2 * i]), tonumber(ARGV[2 + 2 * i])
  local interval = window / limit
  local from = math.max(tonumber(redis.call('GET', KEYS[i]) or '0'), now)
  local nextTat = from + cost * interval
  local allowed = nextTat - now <= window
  if not allowed then admit = false end
  local used = (allowed and nextTat or from) - now
  local retry = allowed and 0 or (nextTat - now - window)
  states[i] = {allowed and 1 or 0, nextTat, math.max(0, math.floor((window - used) / interval)), used, retry}
end
local result = {}
for i = 1, #KEYS do
  local state = states[i]
  if admit then redis.call('SET', KEYS[i], string.format('%.3f', state[2]), 'PX', math.ceil(state[2] - now) + 1000) end
  for _, value in ipairs(state) do result[#result + 1] = string.format('%.3f', value) end
end
return result
`;

/** Adds tokens learned after the call to each meter, never refusing. ARGV: now, window, then cost and limit of each key. */
const chargeScript = `
local now, window = tonumber(ARGV[1]), tonumber(ARGV[2])
for i = 1, #KEYS do
  local cost, limit = tonumber(ARGV[1 + 2 * i]), tonumber(ARGV[2 + 2 * i])
  local nextTat = math.max(tonumber(redis.call('GET', KEYS[i]) or '0'), now) + cost * window / limit
  redis.call('SET', KEYS[i], string.format('%.3f', nextTat), 'PX', math.ceil(nextTat - now) + 1000)
end
return 1
`;

/** Rate limits exact across every process: the meters live in Redis, in the call's team's Cluster slot. */
export class RedisLimiter implements RateLimiter {
  constructor(private readonly redis: Redis) {}

  async admit(subjects: RateSubject[], estimatedTokens: number): Promise<RateDecision> {
    const meters = metersOf(subjects, estimatedTokens);
    const values = (await this.redis.eval(
      admitScript,
      meters.length,
      ...meters.map(keyOf),
      ...argsOf(meters),
    )) as string[];
    const states = meters.map((_, index): MeterState => {
      const [allowed, nextTat, remaining, resetMs, retryAfterMs] = values
        .slice(5 * index, 5 * index + 5)
        .map(Number) as [number, number, number, number, number];
      return { allowed: allowed === 1, nextTat, remaining, resetMs, retryAfterMs };
    });
    return combine(meters, states);
  }

  async charge(subjects: RateSubject[], tokens: number): Promise<void> {
    const meters = metersOf(subjects, tokens).filter((meter) => meter.kind === "tokens");
    if (meters.length > 0)
      await this.redis.eval(chargeScript, meters.length, ...meters.map(keyOf), ...argsOf(meters));
  }
}

function keyOf(meter: Meter): string {
  return `rate:{${meter.subject.slot}}:${meter.name}`;
}

function argsOf(meters: Meter[]): number[] {
  return [Date.now(), windowMs, ...meters.flatMap((meter) => [meter.cost, meter.limit])];
}
