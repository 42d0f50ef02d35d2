import { Counter, type Registry } from "prom-client";

/** The ingress's metrics: what callers asked for and what they got. */
export interface IngressMetrics {
  /** Requests to models with caching, by what the answer cache did (hit, miss, unavailable …). */
  readonly cacheRequests: Counter<"model" | "status">;
}

export function createIngressMetrics(registry: Registry): IngressMetrics {
  return {
    cacheRequests: new Counter({
      name: "gateway_cache_requests_total",
      help: "Requests to models with caching, by what the answer cache did (x-gateway-cache).",
      labelNames: ["model", "status"],
      registers: [registry],
    }),
  };
}
