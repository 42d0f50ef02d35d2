import type { BreakerState, BreakerStore } from "./store.ts";

/** A breaker store whose states this worker keeps, also for its metrics. */
export interface CachedBreakerStore extends BreakerStore {
  /** Each deployment's state as this worker last read it, aged to now (an open breaker half-opens when its cooldown is over). */
  lastSeen(): Array<[deployment: string, state: BreakerState]>;
}

/**
 * Breaker states as a worker last read them, reused for `ttlMs`: a request then costs no round
 * trip to Redis for them, and a breaker another worker opened is seen within `ttlMs`. The worker's
 * own failures and probes make the entry stale, so it sees its own changes at once.
 */
export function cacheBreakerStates(store: BreakerStore, ttlMs = 250): CachedBreakerStore {
  const cache = new Map<string, { state: BreakerState; readAt: number; stale: boolean }>();
  const aged = (entry: { state: BreakerState; readAt: number }, now: number): BreakerState => {
    if (entry.state.state !== "open") return entry.state;
    const reopensInMs = entry.state.reopensInMs - (now - entry.readAt);
    return reopensInMs > 0 ? { state: "open", reopensInMs } : { state: "half_open" };
  };
  const cached = (deployment: string, now: number): BreakerState | undefined => {
    const entry = cache.get(deployment);
    if (!entry || entry.stale || now - entry.readAt >= ttlMs) return undefined;
    return aged(entry, now);
  };
  const markStale = (deployment: string) => {
    const entry = cache.get(deployment);
    if (entry) entry.stale = true;
  };
  return {
    async states(deployments) {
      const now = Date.now();
      const hits = deployments.map((deployment) => cached(deployment, now));
      if (hits.every((hit) => hit !== undefined)) return hits as BreakerState[];
      const states = await store.states(deployments);
      for (const [index, deployment] of deployments.entries())
        cache.set(deployment, { state: states[index] as BreakerState, readAt: now, stale: false });
      return states;
    },
    async tryProbe(deployment, settings) {
      markStale(deployment);
      return store.tryProbe(deployment, settings);
    },
    async failure(deployment, settings, openForMs) {
      markStale(deployment);
      await store.failure(deployment, settings, openForMs);
    },
    async probeSucceeded(deployment) {
      markStale(deployment);
      await store.probeSucceeded(deployment);
    },
    lastSeen() {
      const now = Date.now();
      return [...cache].map(([deployment, entry]) => [deployment, aged(entry, now)]);
    },
  };
}
