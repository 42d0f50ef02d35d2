import { Counter, Histogram, type Registry } from "prom-client";
import { latencyBuckets } from "../runtime/metrics.ts";
import type { AttemptEventInput } from "../schemas/attempt-event.ts";
import type { Usage } from "../schemas/reply-event.ts";

/** Labels of a provider call: its deployment, and the provider account that deployment is on. */
type CallLabel = "provider" | "deployment";

/** The metrics of a worker's provider calls, counted from the same events analytics stores. */
export interface WorkerMetrics {
  readonly attempts: Counter<CallLabel | "outcome" | "error_code">;
  readonly retries: Counter<"model" | "kind">;
  readonly callDuration: Histogram<CallLabel | "outcome">;
  readonly firstToken: Histogram<CallLabel | "outcome">;
  readonly tokens: Counter<CallLabel | "type">;
  readonly cost: Counter<CallLabel>;
  readonly queueWait: Histogram<"priority">;
  readonly refused: Counter<"reason">;
}

export function createWorkerMetrics(registry: Registry): WorkerMetrics {
  const registers = [registry];
  return {
    attempts: new Counter({
      name: "gateway_provider_attempts_total",
      help: "Calls to provider deployments, by how they ended and the gateway's error code (empty when completed).",
      labelNames: ["provider", "deployment", "outcome", "error_code"],
      registers,
    }),
    retries: new Counter({
      name: "gateway_provider_retries_total",
      help: "Calls after a request's first: `retry` of a deployment it already tried, `failover` to another.",
      labelNames: ["model", "kind"],
      registers,
    }),
    callDuration: new Histogram({
      name: "gateway_provider_call_duration_seconds",
      help: "From the start of a call to a provider deployment to its end.",
      labelNames: ["provider", "deployment", "outcome"],
      buckets: latencyBuckets,
      registers,
    }),
    firstToken: new Histogram({
      name: "gateway_provider_time_to_first_token_seconds",
      help: "From the start of a streamed call to a provider deployment to its first content.",
      labelNames: ["provider", "deployment", "outcome"],
      buckets: latencyBuckets,
      registers,
    }),
    tokens: new Counter({
      name: "gateway_tokens_total",
      help: "Tokens of provider calls as the providers reported them (estimated for cut streams); input includes cached_input and cache_write, output includes reasoning.",
      labelNames: ["provider", "deployment", "type"],
      registers,
    }),
    cost: new Counter({
      name: "gateway_cost_usd_total",
      help: "What priced provider calls cost, in USD, for dashboards (the exact amounts are in ClickHouse).",
      labelNames: ["provider", "deployment"],
      registers,
    }),
    queueWait: new Histogram({
      name: "gateway_queue_wait_seconds",
      help: "From a request's arrival at the ingress to a worker starting it (the bus and the worker's queue).",
      labelNames: ["priority"],
      buckets: latencyBuckets,
      registers,
    }),
    refused: new Counter({
      name: "gateway_worker_refused_total",
      help: "Deliveries a worker did not run: `finished` (answered already: a redelivery), `cancelled`, `taken` (another worker runs it), `stale` (past its deadline).",
      labelNames: ["reason"],
      registers,
    }),
  };
}

const tokenTypes = {
  input: "inputTokens",
  output: "outputTokens",
  cached_input: "cachedInputTokens",
  cache_write: "cacheWriteTokens",
  reasoning: "reasoningTokens",
} as const satisfies Record<string, keyof Usage>;

/** Counts the provider calls of one request from their analytics events, so that metrics and analytics agree. */
export function countCalls(metrics: WorkerMetrics, events: AttemptEventInput[]): void {
  const tried = new Set<string>();
  for (const event of events) {
    // A request that failed before calling anyone (no route, every breaker open) made no call.
    if (!event.deployment) continue;
    const call = { provider: event.provider ?? "", deployment: event.deployment };
    const { outcome } = event;
    if (tried.size > 0) {
      const kind = tried.has(event.deployment) ? "retry" : "failover";
      metrics.retries.inc({ model: event.modelRequested, kind });
    }
    tried.add(event.deployment);
    metrics.attempts.inc({ ...call, outcome, error_code: event.errorCode ?? "" });
    metrics.callDuration.observe({ ...call, outcome }, (event.finishedAtMs - event.startedAtMs) / 1000);
    if (event.stream && event.firstTokenAtMs != null)
      metrics.firstToken.observe({ ...call, outcome }, (event.firstTokenAtMs - event.startedAtMs) / 1000);
    for (const [type, field] of Object.entries(tokenTypes))
      metrics.tokens.inc({ ...call, type }, event.usage[field]);
    if (event.priced) metrics.cost.inc(call, (event.costNanoUsd ?? 0) / 1e9);
  }
}
