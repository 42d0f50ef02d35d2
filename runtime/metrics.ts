import { Counter, Registry } from "prom-client";

/**
 * The Prometheus metrics of one gateway process, served at GET /metrics. A registry of its own
 * (not prom-client's global one), so that several gateways in one process — tests — keep apart.
 */
export interface Metrics {
  readonly registry: Registry;
  /** Requests to models with caching, by what the answer cache did (hit, miss, unavailable …). */
  readonly cacheRequests: Counter<"model" | "status">;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  return {
    registry,
    cacheRequests: new Counter({
      name: "gateway_cache_requests_total",
      help: "Requests to models with caching, by what the answer cache did (x-gateway-cache).",
      labelNames: ["model", "status"],
      registers: [registry],
    }),
  };
}
