import type { Logger } from "../../runtime/logger.ts";
import type { RateLimiter, StreamGate } from "../contracts.ts";

/**
 * Limits that stay on while Redis is down: each call goes to the shared (Redis) implementation,
 * and while that fails, to this process's own (the same algorithm; a limit may then be exceeded
 * up to once per process). Limits protect capacity, not money: availability wins here, unlike
 * budgets, which fail closed.
 */
class Fallback<T> {
  private down = false;

  constructor(
    private readonly shared: T,
    private readonly local: T,
    private readonly log: Logger,
    private readonly what: string,
  ) {}

  async either<R>(use: (implementation: T) => Promise<R>): Promise<R> {
    try {
      const result = await use(this.shared);
      if (this.down) this.log.info(`${this.what} are counted in Redis again, across every process`);
      this.down = false;
      return result;
    } catch (error) {
      if (!this.down)
        this.log.warn(
          { err: error },
          `Redis is unreachable: ${this.what} are counted by each process on its own`,
        );
      this.down = true;
      return use(this.local);
    }
  }
}

export function fallbackLimiter(shared: RateLimiter, local: RateLimiter, log: Logger): RateLimiter {
  const fallback = new Fallback(shared, local, log, "rate limits");
  return {
    admit: (subjects, tokens) => fallback.either((limiter) => limiter.admit(subjects, tokens)),
    charge: (subjects, tokens) => fallback.either((limiter) => limiter.charge(subjects, tokens)),
  };
}

export function fallbackStreamGate(shared: StreamGate, local: StreamGate, log: Logger): StreamGate {
  const fallback = new Fallback(shared, local, log, "open streams");
  return {
    acquire: (keyId, streamId, max, ttlMs) =>
      fallback.either((gate) => gate.acquire(keyId, streamId, max, ttlMs)),
    // A slot taken in one place is given back there: both are told (the other has nothing to drop).
    release: async (keyId, streamId) => {
      await Promise.allSettled([shared.release(keyId, streamId), local.release(keyId, streamId)]);
    },
  };
}
