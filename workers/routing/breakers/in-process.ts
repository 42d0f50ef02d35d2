import type { BreakerState, BreakerStore } from "./store.ts";

interface Breaker {
  failures: number[];
  openUntil: number;
  probeUntil: number;
}

/**
 * Circuit breakers of a single process: the same rules as the Redis ones (redis.ts), in memory.
 * Failures are kept for `retentionMs`, the longest window of any route.
 */
export function createInProcessBreakers(retentionMs: number): BreakerStore {
  const breakers = new Map<string, Breaker>();
  const get = (deployment: string) => {
    let breaker = breakers.get(deployment);
    if (!breaker) {
      breaker = { failures: [], openUntil: 0, probeUntil: 0 };
      breakers.set(deployment, breaker);
    }
    return breaker;
  };
  const stateOf = (deployment: string, now: number): BreakerState => {
    const breaker = breakers.get(deployment);
    if (!breaker || breaker.openUntil === 0) return { state: "closed" };
    return now < breaker.openUntil
      ? { state: "open", reopensInMs: breaker.openUntil - now }
      : { state: "half_open" };
  };
  return {
    async states(deployments) {
      const now = Date.now();
      return deployments.map((deployment) => stateOf(deployment, now));
    },
    async tryProbe(deployment, settings) {
      const now = Date.now();
      const breaker = get(deployment);
      if (stateOf(deployment, now).state !== "half_open" || now < breaker.probeUntil) return false;
      breaker.probeUntil = now + settings.breakerCooldownMs;
      return true;
    },
    async failure(deployment, settings, openForMs) {
      const now = Date.now();
      const breaker = get(deployment);
      breaker.failures = breaker.failures.filter((at) => at > now - retentionMs);
      breaker.failures.push(now);
      const inWindow = breaker.failures.filter((at) => at > now - settings.breakerWindowMs).length;
      const probing = stateOf(deployment, now).state === "half_open";
      if (openForMs !== undefined || probing || inWindow >= settings.breakerFailures) {
        breaker.openUntil = now + (openForMs ?? settings.breakerCooldownMs);
        breaker.failures = [];
        breaker.probeUntil = 0;
      }
    },
    async probeSucceeded(deployment) {
      breakers.delete(deployment);
    },
  };
}
