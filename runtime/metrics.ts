import { collectDefaultMetrics, Registry } from "prom-client";

/**
 * The Prometheus registry of one gateway process, served at GET /metrics whatever its role, with
 * Node's process metrics (CPU, memory, event-loop lag, GC) as `gateway_process_*`/`gateway_nodejs_*`.
 * A registry of its own (not prom-client's global one), so that several gateways in one process —
 * tests — keep apart. Each part adds its own metrics: calls/metrics.ts, workers/metrics.ts.
 */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "gateway_" });
  return registry;
}

/**
 * Histogram buckets in seconds for anything a request waits on: from a cache hit's few
 * milliseconds to a long generation's two minutes.
 */
export const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120];
