import type { Redis } from "ioredis";
import {
  type BudgetAlert,
  type BudgetLedger,
  type BudgetPeriod,
  LedgerUnavailable,
  type Reservation,
  type Spender,
} from "../contracts.ts";
import { type Counter, countersOf, crossing, periodTtlMs, refusal } from "./periods.ts";

/**
 * One hash per counter: `s` the settled spend, `h:<hold id>` = "<amount>:<expires at ms>" each live
 * hold. Checking every cap and holding on all of them is one script, so concurrent reserves from
 * any number of processes cannot both take the last room. Lapsed holds (their holder died) are
 * dropped by the next reserve that reads them.
 */
const reserveScript = `
local now, amount, hold, holdMs = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local n = #KEYS
for i = 1, n do
  local fields = redis.call('HGETALL', KEYS[i])
  local committed = 0
  for j = 1, #fields, 2 do
    local field, value = fields[j], fields[j + 1]
    if field == 's' then
      committed = committed + tonumber(value)
    else
      local sep = string.find(value, ':', 1, true)
      if tonumber(string.sub(value, sep + 1)) <= now then
        redis.call('HDEL', KEYS[i], field)
      else
        committed = committed + tonumber(string.sub(value, 1, sep - 1))
      end
    end
  end
  if committed + amount > tonumber(ARGV[4 + n + i]) then return {i, string.format('%.0f', committed)} end
end
for i = 1, n do
  redis.call('HSET', KEYS[i], 'h:' .. hold, string.format('%.0f:%.0f', amount, now + holdMs))
  local ttl = math.max(tonumber(ARGV[4 + i]), holdMs)
  if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
end
return {0, '0'}
`;

/** Drops the hold and adds the cost on every counter; answers each counter's spend before and after. */
const settleScript = `
local hold, cost = ARGV[1], tonumber(ARGV[2])
local result = {}
for i = 1, #KEYS do
  redis.call('HDEL', KEYS[i], 'h:' .. hold)
  local before = tonumber(redis.call('HGET', KEYS[i], 's') or '0')
  local after = redis.call('HINCRBY', KEYS[i], 's', cost)
  local ttl = tonumber(ARGV[2 + i])
  if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
  result[#result + 1] = string.format('%.0f', before)
  result[#result + 1] = tostring(after)
end
return result
`;

export class RedisLedger implements BudgetLedger {
  constructor(
    private readonly redis: Redis,
    private readonly defaultSoftLimitPercent: number,
  ) {}

  async reserve(holdId: string, spenders: Spender[], amount: number, holdMs: number): Promise<Reservation> {
    const now = Date.now();
    const capped = countersOf(spenders, now).filter((counter) => counter.cap !== undefined);
    if (capped.length === 0) return { granted: true };
    const [refused, committed] = (await this.run(() =>
      this.redis.eval(
        reserveScript,
        capped.length,
        ...capped.map(keyOf),
        now,
        amount,
        holdId,
        holdMs,
        ...capped.map((counter) => periodTtlMs[counter.period]),
        ...capped.map((counter) => counter.cap as number),
      ),
    )) as [number, string];
    if (refused === 0) return { granted: true };
    return refusal(capped[refused - 1] as Counter, Number(committed));
  }

  async settle(holdId: string, spenders: Spender[], cost: number): Promise<BudgetAlert[]> {
    const counters = countersOf(spenders, Date.now());
    if (counters.length === 0) return [];
    const spent = (await this.run(() =>
      this.redis.eval(
        settleScript,
        counters.length,
        ...counters.map(keyOf),
        holdId,
        Math.round(cost),
        ...counters.map((counter) => periodTtlMs[counter.period]),
      ),
    )) as string[];
    return counters.flatMap((counter, index) => {
      const alert = crossing(
        counter,
        Number(spent[2 * index]),
        Number(spent[2 * index + 1]),
        this.defaultSoftLimitPercent,
      );
      return alert ? [alert] : [];
    });
  }

  async spend(scope: Spender["scope"], id: string, slot: string) {
    const now = Date.now();
    const counters = countersOf([{ scope, id, budget: noBudget, slot }], now);
    const entries = await Promise.all(
      counters.map(async (counter) => {
        const fields = await this.run(() => this.redis.hgetall(keyOf(counter)));
        let held = 0;
        for (const [field, value] of Object.entries(fields)) {
          if (field === "s") continue;
          const [amount, expiresAt] = value.split(":").map(Number) as [number, number];
          if (expiresAt > now) held += amount;
        }
        return [counter.period, { spentNanoUsd: Number(fields.s ?? 0), heldNanoUsd: held }] as const;
      }),
    );
    return Object.fromEntries(entries) as Record<BudgetPeriod, { spentNanoUsd: number; heldNanoUsd: number }>;
  }

  private async run<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw new LedgerUnavailable(`the budget store cannot be reached: ${(error as Error).message}`);
    }
  }
}

const noBudget = { dailyUsd: null, monthlyUsd: null, totalUsd: null, softLimitPercent: null };

/** A counter's Redis key: in its call's team's Cluster slot. */
function keyOf(counter: Counter): string {
  return `budget:{${counter.spender.slot}}:${counter.name}`;
}
