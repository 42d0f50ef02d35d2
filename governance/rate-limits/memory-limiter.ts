import type { RateDecision, RateLimiter, RateSubject } from "../contracts.ts";
import { combine, decide, metersOf } from "./gcra.ts";

/**
 * Rate limits in this process's memory: the embedded mode, and each process's own limits while
 * Redis is down. A meter is forgotten once it is empty again.
 */
export class MemoryLimiter implements RateLimiter {
  private readonly tats = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  async admit(subjects: RateSubject[], estimatedTokens: number): Promise<RateDecision> {
    const now = this.now();
    this.forgetEmpty(now);
    const meters = metersOf(subjects, estimatedTokens);
    const states = meters.map((meter) =>
      decide(this.tats.get(meter.name) ?? now, now, meter.cost, meter.limit),
    );
    const decision = combine(meters, states);
    if (decision.allowed)
      for (const [index, meter] of meters.entries()) this.tats.set(meter.name, states[index]?.nextTat ?? now);
    return decision;
  }

  async charge(subjects: RateSubject[], tokens: number): Promise<void> {
    const now = this.now();
    for (const meter of metersOf(subjects, tokens).filter((meter) => meter.kind === "tokens"))
      this.tats.set(
        meter.name,
        decide(this.tats.get(meter.name) ?? now, now, meter.cost, meter.limit).nextTat,
      );
  }

  /** Bounded memory: meters whose minute has passed hold nothing a decision needs. */
  private forgetEmpty(now: number): void {
    if (this.tats.size < 10_000) return;
    for (const [name, tat] of this.tats) if (tat <= now) this.tats.delete(name);
  }
}
