import { randomUUID } from "node:crypto";
import type { Tracer } from "@opentelemetry/api";
import type { Registry } from "prom-client";
import type { Bus } from "../bus/bus.ts";
import type { RequestConsumer } from "../bus/messaging.ts";
import type { GatewayConfig } from "../config/schema.ts";
import type { Logger } from "../runtime/logger.ts";
import { GatewayError } from "../schemas/errors.ts";
import { loadTokenizer } from "../schemas/token-count.ts";
import { runAttempt } from "./attempt.ts";
import { type AttemptContext, Cancelled } from "./attempt-context.ts";
import { createWorkerMetrics } from "./metrics.ts";
import { cacheBreakerStates } from "./routing/breakers/cache.ts";
import { noBreakers } from "./routing/failover.ts";
import { LatencyTracker } from "./routing/latency.ts";
import { RetryBudget, RetryBudgets } from "./routing/retry-budget.ts";
import type { RoutingState } from "./routing/state.ts";
import { PriorityScheduler } from "./scheduler.ts";
import { gaugeWorkerState, type WorkerState } from "./state-gauges.ts";

export interface WorkerOptions {
  bus: Bus;
  config: GatewayConfig["workers"];
  routing: GatewayConfig["routing"];
  /** Breakers and quotas, shared with the other workers (routing/state.ts). */
  routingState: Pick<RoutingState, "breakers" | "quotas">;
  /**
   * The routes and provider instances of the configuration in use (a reload replaces them): each
   * request is served, to its end, with those in use when it started.
   */
  serving: () => Pick<AttemptContext, "routes" | "providers">;
  /** The process's metrics registry; the worker adds its own. */
  metrics: Registry;
  requestLag: WorkerState["requestLag"];
  tracer: Tracer;
  log: Logger;
  /** The output a call lost with this worker is billed for when its request names no max_tokens. */
  lostCallOutputTokens: number;
}

export interface RunningWorker {
  readonly id: string;
  /** Requests running now. */
  readonly inFlight: number;
  /** Finishes running requests within `graceMs`, ends the rest with an error, commits, disconnects. */
  stop(graceMs: number): Promise<void>;
}

/** Consumes requests from the bus and runs each (workers/attempt.ts), highest priority first. */
export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const { bus, config, log } = options;
  const id = `worker-${randomUUID().slice(0, 8)}`;
  // Before taking work: loading it blocks for a moment, better at start than mid-stream.
  await loadTokenizer();
  const running = new Map<string, AbortController>();
  const breakers = options.routing.circuitBreakers
    ? cacheBreakerStates(options.routingState.breakers)
    : undefined;
  const context = {
    workerId: id,
    bus,
    failover: {
      breakers: breakers ?? noBreakers,
      quotas: options.routingState.quotas,
      latency: new LatencyTracker(),
      budgets: new RetryBudgets(
        new RetryBudget(options.routing.retryBudget, options.routing.minRetriesPerSecond),
      ),
      batchQuotaShare: options.routing.batchQuotaShare,
      affinityMinTokens: options.routing.promptCacheAffinityMinTokens,
    },
    heartbeatMs: config.heartbeatMs,
    metrics: createWorkerMetrics(options.metrics),
    tracer: options.tracer,
    log,
    running,
    lostCallOutputTokens: options.lostCallOutputTokens,
  };
  const consumer: RequestConsumer = bus.createConsumer();
  const scheduler = new PriorityScheduler(
    config,
    (delivery) => runAttempt(delivery, { ...context, ...options.serving() }),
    (priority) => consumer.resume(priority),
  );
  gaugeWorkerState(options.metrics, { scheduler, breakers, requestLag: options.requestLag }, log);

  await bus.cancels.onCancel((requestId) => running.get(requestId)?.abort(new Cancelled()));
  await consumer.start(scheduler);
  log.info({ workerId: id, concurrency: config.concurrency }, "worker started");

  return {
    id,
    get inFlight() {
      return scheduler.inFlight;
    },
    async stop(graceMs) {
      scheduler.stopAccepting();
      await consumer.stop();
      const deadline = Date.now() + graceMs;
      while (scheduler.inFlight > 0 && Date.now() < deadline) await sleep(50);
      for (const abort of running.values()) {
        abort.abort(
          new GatewayError("overloaded", "the worker serving this request shut down; retry the request"),
        );
      }
      while (scheduler.inFlight > 0) await sleep(20);
      await consumer.close();
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
