import { randomUUID } from "node:crypto";
import type { QuotaStore } from "./store.ts";
import { minuteWindow } from "./window.ts";

interface Counters {
  leases: Map<string, number>;
  requests: Map<number, number>;
  tokens: Map<number, number>;
}

/** Deployment quotas of a single process: the rules of the Redis ones (bus/redis/quotas.ts), in memory. */
export function createInProcessQuotas(leaseLimitMs: number): QuotaStore {
  const deployments = new Map<string, Counters>();
  const countersOf = (deployment: string) => {
    let counters = deployments.get(deployment);
    if (!counters) {
      counters = { leases: new Map(), requests: new Map(), tokens: new Map() };
      deployments.set(deployment, counters);
    }
    return counters;
  };
  return {
    async acquire(deployment, limits, tokens) {
      const now = Date.now();
      const window = minuteWindow(now);
      const counters = countersOf(deployment);
      const windowed = windowedCount(window);
      for (const [lease, lapses] of counters.leases) if (lapses <= now) counters.leases.delete(lease);
      if (limits.concurrency && counters.leases.size >= limits.concurrency)
        return { granted: false, retryInMs: 100 };
      const cost = Math.min(Math.ceil(tokens), limits.tokensPerMinute ?? Number.POSITIVE_INFINITY);
      if (
        (limits.requestsPerMinute && windowed(counters.requests) + 1 > limits.requestsPerMinute) ||
        (limits.tokensPerMinute && windowed(counters.tokens) + cost > limits.tokensPerMinute)
      )
        return { granted: false, retryInMs: window.msToNextMinute };
      const lease = `${window.minute}:${randomUUID()}`;
      if (limits.concurrency) counters.leases.set(lease, now + leaseLimitMs);
      for (const counts of [counters.requests, counters.tokens]) {
        for (const minute of counts.keys()) if (minute < window.minute - 1) counts.delete(minute);
      }
      if (limits.requestsPerMinute)
        counters.requests.set(window.minute, (counters.requests.get(window.minute) ?? 0) + 1);
      if (limits.tokensPerMinute)
        counters.tokens.set(window.minute, (counters.tokens.get(window.minute) ?? 0) + cost);
      return { granted: true, lease };
    },
    async release(deployment, lease, estimatedTokens, usedTokens) {
      const counters = countersOf(deployment);
      counters.leases.delete(lease);
      const minute = Number(lease.slice(0, lease.indexOf(":")));
      const counted = counters.tokens.get(minute);
      if (counted !== undefined)
        counters.tokens.set(minute, counted + Math.round(usedTokens - estimatedTokens));
    },
    async usage(deployment) {
      const now = Date.now();
      const counters = countersOf(deployment);
      const windowed = windowedCount(minuteWindow(now));
      return {
        concurrent: [...counters.leases.values()].filter((lapses) => lapses > now).length,
        requestsPerMinute: Math.round(windowed(counters.requests)),
        tokensPerMinute: Math.round(windowed(counters.tokens)),
      };
    },
  };
}

/** A per-minute count over the sliding minute: the last minute's, weighted, and this one's. */
function windowedCount(window: ReturnType<typeof minuteWindow>) {
  return (counts: Map<number, number>) =>
    (counts.get(window.minute - 1) ?? 0) * window.previousWeight + (counts.get(window.minute) ?? 0);
}
