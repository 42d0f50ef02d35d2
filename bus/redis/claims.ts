import type { Redis } from "ioredis";
import type { ClaimResult, ClaimStore } from "../contracts.ts";
import { cancelledKey } from "./cancels.ts";

const done = "done";

// Take the claim unless the request (or its batch) was cancelled, someone holds it, or it is done.
const claimScript = `
if redis.call('EXISTS', KEYS[2]) == 1 or redis.call('EXISTS', KEYS[3]) == 1 then return 2 end
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;
const claimResults: ClaimResult[] = ["taken", "claimed", "cancelled"];

// Extend the claim only if this attempt still holds it.
const renewScript = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

type ClaimCommands = Redis & {
  gatewayClaim(
    key: string,
    cancelled: string,
    batchCancelled: string,
    attempt: string,
    ttlMs: number,
  ): Promise<number>;
  gatewayRenewClaim(key: string, attempt: string, ttlMs: number): Promise<number>;
};

/** Claims in Redis: shared by every worker process, atomic by Lua, self-expiring if a worker dies. */
export function createRedisClaims(redis: Redis): ClaimStore {
  const commands = redis as ClaimCommands;
  redis.defineCommand("gatewayClaim", { numberOfKeys: 3, lua: claimScript });
  redis.defineCommand("gatewayRenewClaim", { numberOfKeys: 1, lua: renewScript });
  const key = (requestId: string) => `claim:${requestId}`;
  return {
    async claim(requestId, attempt, ttlMs, batchId) {
      // A request of no batch checks its own cancel key twice rather than a key built in Lua.
      const batchCancelled = cancelledKey(batchId ?? requestId);
      const result = await commands.gatewayClaim(
        key(requestId),
        cancelledKey(requestId),
        batchCancelled,
        attempt,
        ttlMs,
      );
      return claimResults[result] as ClaimResult;
    },
    async renew(requestId, attempt, ttlMs) {
      return (await commands.gatewayRenewClaim(key(requestId), attempt, ttlMs)) === 1;
    },
    async finish(requestId, keepMs) {
      await redis.set(key(requestId), done, "PX", keepMs);
    },
  };
}
