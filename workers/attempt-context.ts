import type { Tracer } from "@opentelemetry/api";
import type { Bus } from "../bus/bus.ts";
import type { RouteTable } from "../config/routes.ts";
import type { Logger } from "../runtime/logger.ts";
import type { WorkerMetrics } from "./metrics.ts";
import type { Provider } from "./providers/provider.ts";
import type { FailoverServices } from "./routing/failover.ts";

/** What a worker's attempts run with. */
export interface AttemptContext {
  workerId: string;
  bus: Bus;
  routes: RouteTable;
  providers: Map<string, Provider>;
  failover: FailoverServices;
  heartbeatMs: number;
  metrics: WorkerMetrics;
  tracer: Tracer;
  log: Logger;
  /** Abort controllers of running attempts by request id, so cancels and shutdown can reach them. */
  running: Map<string, AbortController>;
  /** The output a call lost with its worker is billed for when its request names no max_tokens. */
  lostCallOutputTokens: number;
}

/** The reason an attempt is aborted when its client went away. */
export class Cancelled extends Error {}

/** How long a finished request and its calls' traces are remembered, so a late redelivery of it is refused. */
export const finishedMemoryMs = 60 * 60_000;

/** How long a request is remembered once finished: past its deadline, when nobody runs it any more. */
export function keepMsOf(deadlineMs: number): number {
  return Math.max(finishedMemoryMs, deadlineMs - Date.now());
}
