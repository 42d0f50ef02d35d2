import type { Redis } from "ioredis";
import type { AttemptEvent, AttemptEventInput } from "../../schemas/attempt-event.ts";
import { attemptEventCodec } from "../../schemas/index.ts";
import type { Claim, ClaimResult, ClaimStore, Finishing } from "../coordination.ts";
import { cancelledKey } from "./cancels.ts";

const done = "done";

// Takes the traces of calls whose runner is gone (no live claim), then takes the claim unless the
// request (or its batch) was cancelled, someone holds it, it is done, or only recovery was asked;
// a claim taken keeps the trace of the claimer's first call (ARGV[4..6]) in the same step.
const claimScript = `
local held = redis.call('GET', KEYS[1])
local live = held and held ~= '${done}'
local orphans = {}
if not live then
  orphans = redis.call('HVALS', KEYS[4])
  if #orphans > 0 then redis.call('DEL', KEYS[4]) end
end
local status
if redis.call('EXISTS', KEYS[2]) == 1 or redis.call('EXISTS', KEYS[3]) == 1 then status = 3
elseif live then status = 0
elseif held then status = 2
elseif ARGV[3] == '1' then status = 4
else
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  status = 1
  if ARGV[4] ~= '' then
    redis.call('HSET', KEYS[4], ARGV[4], ARGV[5])
    redis.call('PEXPIRE', KEYS[4], ARGV[6])
  end
end
table.insert(orphans, 1, tostring(status))
return orphans`;
const claimResults: ClaimResult[] = ["taken", "claimed", "finished", "cancelled", "stale"];

// Extend the claim only if this attempt still holds it.
const renewScript = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

// Keeps a call's trace (one command, not a MULTI of four: it is on the way to every provider call).
const traceScript = `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`;

// Done for good; the calls' real events replace their traces until they are recorded; and the
// request's last reply, if any, is published in the same step.
const finishScript = `
redis.call('SET', KEYS[1], '${done}', 'PX', ARGV[1])
redis.call('DEL', KEYS[2])
if ARGV[2] ~= '' then redis.call('PUBLISH', ARGV[2], ARGV[3]) end
if #ARGV > 3 then
  redis.call('HSET', KEYS[2], unpack(ARGV, 4))
  redis.call('PEXPIRE', KEYS[2], ARGV[1])
end
return 1`;

type ClaimCommands = Redis & {
  gatewayClaimBuffer(
    key: string,
    cancelled: string,
    batchCancelled: string,
    calls: string,
    attempt: string,
    ttlMs: number,
    recoverOnly: string,
    firstCall: string,
    firstCallEvent: Buffer | string,
    firstCallKeepMs: number,
  ): Promise<Buffer[]>;
  gatewayRenewClaim(key: string, attempt: string, ttlMs: number): Promise<number>;
  gatewayTraceCall(calls: string, call: string, event: Buffer, keepMs: number): Promise<number>;
  gatewayFinishClaim(
    key: string,
    calls: string,
    keepMs: number,
    channel: string,
    message: Buffer | string,
    ...fieldsAndEvents: Array<string | Buffer>
  ): Promise<number>;
};

const claimKey = (requestId: string) => `claim:${requestId}`;
const callsKey = (requestId: string) => `calls:${requestId}`;

/** Marks a request finished, publishing its last reply `message` on `channel` in the same step when given. */
export type FinishClaim = (
  requestId: string,
  finishing: Finishing,
  reply?: { channel: string; message: Buffer },
) => Promise<void>;

/** The finishing step, shared by the claims and the reply sender (whose last reply carries it). */
export function redisFinishClaim(redis: Redis): FinishClaim {
  const commands = redis as ClaimCommands;
  redis.defineCommand("gatewayFinishClaim", { numberOfKeys: 2, lua: finishScript });
  return async (requestId, { keepMs, events }, reply) => {
    const fields = events.flatMap((event) => [event.attempt, encodeEvent(event)]);
    await commands.gatewayFinishClaim(
      claimKey(requestId),
      callsKey(requestId),
      keepMs,
      reply?.channel ?? "",
      reply?.message ?? "",
      ...fields,
    );
  };
}

/** Claims in Redis: shared by every worker process, atomic by Lua, self-expiring if a worker dies. */
export function createRedisClaims(redis: Redis, finish: FinishClaim): ClaimStore {
  const commands = redis as ClaimCommands;
  redis.defineCommand("gatewayClaim", { numberOfKeys: 4, lua: claimScript });
  redis.defineCommand("gatewayRenewClaim", { numberOfKeys: 1, lua: renewScript });
  redis.defineCommand("gatewayTraceCall", { numberOfKeys: 1, lua: traceScript });
  return {
    async claim({ requestId, attempt, ttlMs, batchId, recoverOnly, firstCall }): Promise<Claim> {
      // A request of no batch checks its own cancel key twice rather than a key built in Lua.
      const batchCancelled = cancelledKey(batchId ?? requestId);
      const [status, ...orphans] = await commands.gatewayClaimBuffer(
        claimKey(requestId),
        cancelledKey(requestId),
        batchCancelled,
        callsKey(requestId),
        attempt,
        ttlMs,
        recoverOnly ? "1" : "0",
        firstCall?.call ?? "",
        firstCall ? encodeEvent(firstCall.event) : "",
        firstCall?.keepMs ?? 0,
      );
      return {
        result: claimResults[Number(status?.toString())] as ClaimResult,
        orphans: orphans.map(decodeEvent),
      };
    },
    async renew(requestId, attempt, ttlMs) {
      return (await commands.gatewayRenewClaim(claimKey(requestId), attempt, ttlMs)) === 1;
    },
    async trace(requestId, call, event, keepMs) {
      await commands.gatewayTraceCall(callsKey(requestId), call, encodeEvent(event), keepMs);
    },
    finish: (requestId, finishing) => finish(requestId, finishing),
    async recorded(requestId) {
      await redis.del(callsKey(requestId));
    },
  };
}

/** An event behind the 2-byte schema version it was written with: a worker of another release reads it. */
function encodeEvent(event: AttemptEventInput): Buffer {
  const version = Buffer.allocUnsafe(2);
  version.writeUInt16BE(attemptEventCodec.version, 0);
  return Buffer.concat([version, attemptEventCodec.encode(event)]);
}

function decodeEvent(stored: Buffer): AttemptEvent {
  return attemptEventCodec.decode(stored.subarray(2), stored.readUInt16BE(0));
}
