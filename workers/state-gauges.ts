import { Gauge, type Registry } from "prom-client";
import type { Logger } from "../runtime/logger.ts";
import { withTimeout } from "../runtime/with-timeout.ts";
import { type Priority, priorities } from "../schemas/request-envelope.ts";
import type { CachedBreakerStore } from "./routing/breakers/cache.ts";
import type { BreakerState } from "./routing/breakers/store.ts";
import type { PriorityScheduler } from "./scheduler.ts";

/** What a worker's gauges read when Prometheus scrapes, so nothing keeps them up to date in between. */
export interface WorkerState {
  scheduler: Pick<PriorityScheduler, "load" | "batchLimit">;
  /** Undefined when circuit breakers are off. */
  breakers: CachedBreakerStore | undefined;
  /** The requests in each priority's Kafka topic the workers have not committed; undefined on the in-process bus. */
  requestLag: (() => Promise<Record<Priority, number>>) | undefined;
}

const breakerValues: Record<BreakerState["state"], number> = { closed: 0, half_open: 1, open: 2 };

/** A scrape waits no longer than this for Kafka: Prometheus gives up on a scrape after 10 s by default. */
const lagTimeoutMs = 2_000;

/** Adds the worker's gauges to the registry: its queues and slots, the breakers it last saw, the Kafka lag. */
export function gaugeWorkerState(registry: Registry, state: WorkerState, log: Logger): void {
  const registers = [registry];
  const { scheduler, breakers, requestLag } = state;
  new Gauge({
    name: "gateway_worker_queued_requests",
    help: "Requests waiting in this worker's queue of a priority.",
    labelNames: ["priority"],
    registers,
    collect() {
      for (const priority of priorities) this.set({ priority }, scheduler.load(priority).queued);
    },
  });
  new Gauge({
    name: "gateway_worker_running_requests",
    help: "Requests of a priority running in this worker's slots.",
    labelNames: ["priority"],
    registers,
    collect() {
      for (const priority of priorities) this.set({ priority }, scheduler.load(priority).running);
    },
  });
  new Gauge({
    name: "gateway_worker_batch_limit",
    help: "Batch lines this worker may run at once now: its batch share, halved while other requests wait too long (workers.batchYieldWaitMs).",
    registers,
    collect() {
      this.set(scheduler.batchLimit);
    },
  });
  if (breakers) {
    new Gauge({
      name: "gateway_circuit_breaker_state",
      help: "A deployment's circuit breaker as this worker last read it: 0 closed, 1 half-open, 2 open.",
      labelNames: ["deployment"],
      registers,
      collect() {
        for (const [deployment, seen] of breakers.lastSeen())
          this.set({ deployment }, breakerValues[seen.state]);
      },
    });
  }
  if (requestLag) {
    new Gauge({
      name: "gateway_kafka_request_lag",
      help: "Requests in a priority's Kafka topic the workers have not committed: waiting in Kafka, queued or running.",
      labelNames: ["priority"],
      registers,
      async collect() {
        try {
          const lag = await withTimeout(requestLag(), lagTimeoutMs);
          for (const priority of priorities) this.set({ priority }, lag[priority]);
        } catch (error) {
          // No value rather than an old one; the scrape itself must not fail.
          this.reset();
          log.warn({ err: error }, "Kafka consumer lag not read");
        }
      },
    });
  }
}
