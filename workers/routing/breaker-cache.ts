import type { BreakerState, BreakerStore } from "../../bus/contracts.ts";

/**
 * Breaker states as a worker last read them, reused for `ttlMs`: a request then costs no round
 * trip to Redis for them, and a breaker another worker opened is seen within `ttlMs`. The worker's
 * own failures and probes drop the entry, so it sees its own changes at once.
 */
export function cacheBreakerStates(store: BreakerStore, ttlMs = 250): BreakerStore {
  const cache = new Map<string, { state: BreakerState; readAt: number }>();
  const cached = (deployment: string, now: number): BreakerState | undefined => {
    const entry = cache.get(deployment);
    if (!entry || now - entry.readAt >= ttlMs) return undefined;
    if (entry.state.state !== "open") return entry.state;
    const reopensInMs = entry.state.reopensInMs - (now - entry.readAt);
    return reopensInMs > 0 ? { state: "open", reopensInMs } : { state: "half_open" };
  };
  return {
    async states(deployments) {
      const now = Date.now();
      const hits = deployments.map((deployment) => cached(deployment, now));
      if (hits.every((hit) => hit !== undefined)) return hits as BreakerState[];
      const states = await store.states(deployments);
      for (const [index, deployment] of deployments.entries())
        cache.set(deployment, { state: states[index] as BreakerState, readAt: now });
      return states;
    },
    async tryProbe(deployment) {
      cache.delete(deployment);
      return store.tryProbe(deployment);
    },
    async failure(deployment, openForMs) {
      cache.delete(deployment);
      await store.failure(deployment, openForMs);
    },
    async probeSucceeded(deployment) {
      cache.delete(deployment);
      await store.probeSucceeded(deployment);
    },
  };
}
