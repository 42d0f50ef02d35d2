import type { Redis } from "ioredis";
import type { StreamGate } from "../contracts.ts";

/**
 * A key's open streams as a sorted set of stream ids scored by when their slot lapses: acquiring
 * drops lapsed ones, counts, and adds, in one script. ARGV: now, stream id, max, ttl.
 */
const acquireScript = `
local now, stream, max, ttl = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= max then return 0 end
redis.call('ZADD', KEYS[1], now + ttl, stream)
redis.call('PEXPIRE', KEYS[1], ttl)
return 1
`;

/** Streams per key across every process. */
export class RedisStreamGate implements StreamGate {
  constructor(private readonly redis: Redis) {}

  async acquire(keyId: string, streamId: string, max: number, ttlMs: number): Promise<boolean> {
    return (await this.redis.eval(acquireScript, 1, keyOf(keyId), Date.now(), streamId, max, ttlMs)) === 1;
  }

  async release(keyId: string, streamId: string): Promise<void> {
    await this.redis.zrem(keyOf(keyId), streamId);
  }
}

function keyOf(keyId: string): string {
  return `streams:${keyId}`;
}

/** Streams per key in this process (the embedded mode). */
export class MemoryStreamGate implements StreamGate {
  private readonly open = new Map<string, Map<string, number>>();

  constructor(private readonly now: () => number = Date.now) {}

  async acquire(keyId: string, streamId: string, max: number, ttlMs: number): Promise<boolean> {
    const now = this.now();
    const streams = this.open.get(keyId) ?? new Map<string, number>();
    for (const [id, lapsesAt] of streams) if (lapsesAt <= now) streams.delete(id);
    if (streams.size >= max) return false;
    streams.set(streamId, now + ttlMs);
    this.open.set(keyId, streams);
    return true;
  }

  async release(keyId: string, streamId: string): Promise<void> {
    const streams = this.open.get(keyId);
    streams?.delete(streamId);
    if (streams?.size === 0) this.open.delete(keyId);
  }
}
