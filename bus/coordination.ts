import type { AttemptEvent, AttemptEventInput } from "../schemas/attempt-event.ts";

/**
 * Coordination of work between processes: which worker runs a request (claims, with the traces
 * of its provider calls) and which requests nobody wants answered any more (cancels). In process,
 * or in Redis.
 */

/** How a request is marked finished (see ClaimStore.finish). */
export interface Finishing {
  keepMs: number;
  events: AttemptEventInput[];
}

/** How long a cancellation is remembered for requests not yet started. */
export const cancelMemoryMs = 10 * 60_000;

/** Ingress → workers: cancellation of requests whose client went away, and of batch jobs. */
export interface CancelChannel {
  /**
   * Cancels a request, or every line of a batch job (by its batch id), remembered `memoryMs`
   * (default `cancelMemoryMs`) for workers that dequeue them later.
   */
  cancel(id: string, memoryMs?: number): Promise<void>;
  /** Called on every worker with each cancelled request id. */
  onCancel(handler: (requestId: string) => void): Promise<void>;
  close(): Promise<void>;
}

/**
 * Which worker runs a request, and what becomes of its provider calls if that worker dies. A
 * worker claims a request before calling a provider, keeps the claim alive while it works and
 * marks it done at the end, so that a redelivered request (after a rebalance or a crash) runs
 * again only when its previous runner is gone and did not finish.
 *
 * Every provider call leaves a trace before it starts: the event it must be recorded with if its
 * runner dies (outcome failed, error `lost`, its most possible cost). Whoever next finds the
 * request without a live claim takes those traces over and records them, so a call billed by a
 * provider is never missing from analytics. Finishing replaces the traces with the calls' real
 * events, kept until they are durable on the bus (`recorded`), so an answered request cannot lose
 * the record of its calls either.
 */
export interface ClaimStore {
  /**
   * `claimed`: this attempt now owns the request. `taken`: a live attempt holds it. `finished`:
   * it was answered (or failed) already. `cancelled`: the request, or the batch job `batchId` it
   * is a line of, was cancelled. `orphans`: the events of calls whose runner is gone, now this
   * caller's to record. With `recoverOnly` (a request past its deadline) nothing is claimed.
   */
  claim(request: ClaimRequest): Promise<Claim>;
  /** Extends a live claim; false if it was lost. */
  renew(requestId: string, attempt: string, ttlMs: number): Promise<boolean>;
  /** What `call` must be recorded as if its runner never finishes it; durable when this resolves. */
  trace(requestId: string, call: string, event: AttemptEventInput, keepMs: number): Promise<void>;
  /**
   * The request is finished for good: later deliveries of it are refused, and `events` (its
   * calls' real records) replace their traces until `recorded`. A request with a client is
   * finished by its last reply instead (ReplySender.send), in the same step.
   */
  finish(requestId: string, finishing: Finishing): Promise<void>;
  /** The events `finish` kept are durable on the bus: forget them. */
  recorded(requestId: string): Promise<void>;
}

export interface ClaimRequest {
  requestId: string;
  attempt: string;
  ttlMs: number;
  batchId?: string;
  recoverOnly?: boolean;
  /**
   * The trace of the call the claimer means to make first, kept in the same step when the claim
   * is taken (as `trace` would keep it): one round trip fewer before every request's first call.
   * A claimer that dies before making it leaves it recorded as lost all the same: like every
   * trace, it errs towards spend above what providers billed, never below.
   */
  firstCall?: CallTrace;
}

/** What `call` must be recorded as if its runner never finishes it, and for how long (see ClaimStore.trace). */
export interface CallTrace {
  call: string;
  event: AttemptEventInput;
  keepMs: number;
}

export type ClaimResult = "claimed" | "taken" | "finished" | "cancelled" | "stale";

export interface Claim {
  result: ClaimResult;
  orphans: AttemptEvent[];
}
