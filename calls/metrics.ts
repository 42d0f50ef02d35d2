import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { latencyBuckets } from "../runtime/metrics.ts";
import type { ReplyEvent } from "../schemas/reply-event.ts";
import type { Priority } from "../schemas/request-envelope.ts";
import type { CacheStatus } from "./cache/answer-cache.ts";
import { contentKinds } from "./dispatcher.ts";

/** Labels of a request at the ingress. `model` is only set once it names a model this gateway serves. */
type RequestLabel = "model" | "api" | "priority" | "cache";

/** The ingress's metrics: what callers asked for and what they got. */
export interface IngressMetrics {
  readonly requests: Counter<RequestLabel | "status">;
  readonly inFlight: Gauge<"priority">;
  readonly duration: Histogram<RequestLabel>;
  readonly firstToken: Histogram<RequestLabel>;
  /** Requests to models with caching, by what the answer cache did (hit, miss, unavailable …). */
  readonly cacheRequests: Counter<"model" | "status">;
}

export function createIngressMetrics(registry: Registry): IngressMetrics {
  const labelNames: RequestLabel[] = ["model", "api", "priority", "cache"];
  return {
    requests: new Counter({
      name: "gateway_requests_total",
      help: "Requests the inference APIs finished, by the status they ended with (499: the client went away).",
      labelNames: [...labelNames, "status"],
      registers: [registry],
    }),
    inFlight: new Gauge({
      name: "gateway_requests_in_flight",
      help: "Requests the ingress is answering now.",
      labelNames: ["priority"],
      registers: [registry],
    }),
    duration: new Histogram({
      name: "gateway_request_duration_seconds",
      help: "From a request's arrival at the ingress to the end of its answer.",
      labelNames,
      buckets: latencyBuckets,
      registers: [registry],
    }),
    firstToken: new Histogram({
      name: "gateway_time_to_first_token_seconds",
      help: "From a streamed request's arrival at the ingress to its first content being sent.",
      labelNames,
      buckets: latencyBuckets,
      registers: [registry],
    }),
    cacheRequests: new Counter({
      name: "gateway_cache_requests_total",
      help: "Requests to models with caching, by what the answer cache did (x-gateway-cache).",
      labelNames: ["model", "status"],
      registers: [registry],
    }),
  };
}

/** The status of a request whose client went away before its answer ended (nginx's convention). */
export const clientClosedStatus = 499;

/**
 * One request at the ingress as its metrics see it, the same for HTTP and WebSocket: labelled as
 * its model, priority and cache outcome become known, counted once when it ends.
 */
export class RequestObservation {
  private readonly labels: Record<RequestLabel, string>;
  private readonly startedAt = performance.now();
  private priority: Priority | undefined;
  private firstTokenSeen = false;
  private ended = false;

  constructor(
    private readonly metrics: IngressMetrics,
    api: string,
  ) {
    this.labels = { model: "", api, priority: "", cache: "" };
  }

  /** The request names a served model and has its priority: from here on it is in flight. */
  accepted(model: string, priority: Priority): void {
    this.labels.model = model;
    this.labels.priority = priority;
    this.priority = priority;
    this.metrics.inFlight.inc({ priority });
  }

  cache(status: CacheStatus): void {
    this.labels.cache = status;
    this.metrics.cacheRequests.inc({ model: this.labels.model, status });
  }

  /** An event of a streamed answer is being sent: the first content is its time to first token. */
  sending(event: ReplyEvent): void {
    if (this.firstTokenSeen || !contentKinds.has(event.kind)) return;
    this.firstTokenSeen = true;
    this.metrics.firstToken.observe(this.labels, this.elapsedSeconds());
  }

  /** The answer ended with this status; later calls change nothing. */
  end(status: number): void {
    if (this.ended) return;
    this.ended = true;
    if (this.priority) this.metrics.inFlight.dec({ priority: this.priority });
    this.metrics.requests.inc({ ...this.labels, status: String(status) });
    this.metrics.duration.observe(this.labels, this.elapsedSeconds());
  }

  private elapsedSeconds(): number {
    return (performance.now() - this.startedAt) / 1000;
  }
}
