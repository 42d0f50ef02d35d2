import type { Redis } from "ioredis";
import type { ClaimStore } from "../contracts.ts";
import { cancelledKey } from "./cancels.ts";

const done = "done";

// Take the claim unless someone holds it, the request is done, or it was cancelled before it started.
const claimScript = `
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

// Extend the claim only if this attempt still holds it.
const renewScript = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

type ClaimCommands = Redis & {
  gatewayClaim(key: string, cancelled: string, attempt: string, ttlMs: number): Promise<number>;
  gatewayRenewClaim(key: string, attempt: string, ttlMs: number): Promise<number>;
};

/** Claims in Redis: shared by every worker process, atomic by Lua, self-expiring if a worker dies. */
export function createRedisClaims(redis: Redis): ClaimStore {
  const commands = redis as ClaimCommands;
  redis.defineCommand("gatewayClaim", { numberOfKeys: 2, lua: claimScript });
  redis.defineCommand("gatewayRenewClaim", { numberOfKeys: 1, lua: renewScript });
  const key = (requestId: string) => `claim:${requestId}`;
  return {
    async claim(requestId, attempt, ttlMs) {
      return (await commands.gatewayClaim(key(requestId), cancelledKey(requestId), attempt, ttlMs)) === 1;
    },
    async renew(requestId, attempt, ttlMs) {
      return (await commands.gatewayRenewClaim(key(requestId), attempt, ttlMs)) === 1;
    },
    async finish(requestId, keepMs) {
      await redis.set(key(requestId), done, "PX", keepMs);
    },
  };
}
