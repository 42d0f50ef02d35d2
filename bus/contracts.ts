import type { DeploymentLimits } from "../config/routes.ts";
import type { AttemptEvent, AttemptEventInput } from "../schemas/attempt-event.ts";
import type { AuditEvent, AuditEventInput } from "../schemas/audit-event.ts";
import type { BatchLineResult, BatchLineResultInput } from "../schemas/batch-line-result.ts";
import type { ReplyEvent, ReplyEventInput } from "../schemas/reply-event.ts";
import type { Priority, RequestEnvelope, RequestEnvelopeInput } from "../schemas/request-envelope.ts";
import type { RequestEvent, RequestEventInput } from "../schemas/request-event.ts";

/**
 * The bus between roles, as the ingress and the workers see it. Two implementations: Kafka with
 * Redis (any number of processes) and in-process (one process, nothing to install). Both carry
 * the same Avro bytes, so the same code and tests run on either.
 */

/** Ingress side: hands a request to the worker pools. */
export interface RequestPublisher {
  publish(envelope: RequestEnvelopeInput): Promise<void>;
}

/** One request handed to a worker. */
export interface Delivery {
  readonly envelope: RequestEnvelope;
  /** False once the bus has given this request to another worker (e.g. after a rebalance): skip it. */
  stillOwned(): boolean;
  /** The work is over (answered, failed or skipped): the bus will not hand it out again. */
  settle(): void;
}

/** Where a consumer puts deliveries: the worker's scheduler. */
export interface DeliverySink {
  /** Takes one delivery; returns false when this priority has no more room (the consumer pauses it). */
  offer(priority: Priority, delivery: Delivery): boolean;
}

/** Worker side: feeds the sink, honouring its back-pressure. */
export interface RequestConsumer {
  start(sink: DeliverySink): Promise<void>;
  /** The sink has room again for this priority. */
  resume(priority: Priority): void;
  /** Takes no new deliveries; those handed out stay unsettled until they settle or `close`. */
  stop(): Promise<void>;
  /** Records what was settled (Kafka: commits offsets) and disconnects. */
  close(): Promise<void>;
}

/** Worker → the ingress instance holding the client. */
export interface ReplySender {
  /**
   * Sends one event, in order after those sent before it. With `finish` (a request's last event)
   * the request is marked finished in the same step as the event leaves: an ingress can never
   * answer a client while its request could still run again, nor a crash leave it marked
   * finished with its client never answered.
   */
  send(address: string, event: ReplyEventInput, finish?: Finishing): Promise<void>;
}

/** How a request is marked finished (see ClaimStore.finish). */
export interface Finishing {
  keepMs: number;
  events: AttemptEventInput[];
}

/** Ingress side of the reply channel: one address per ingress instance. */
export interface ReplyReceiver {
  readonly address: string;
  listen(handler: (event: ReplyEvent) => void): Promise<void>;
  close(): Promise<void>;
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
}

export type ClaimResult = "claimed" | "taken" | "finished" | "cancelled" | "stale";

export interface Claim {
  result: ClaimResult;
  orphans: AttemptEvent[];
}

/**
 * Circuit breakers of provider deployments, shared by every worker process. A deployment that
 * failed `failures` times within a window, or that asked not to be called for a while (429 with
 * retry-after), is open: routing skips it. Once its cooldown is over it is half-open: one request
 * at a time may probe it; the probe's success closes it, its failure opens it again.
 */
export type BreakerState =
  | { state: "closed" | "half_open" }
  /** `reopensInMs`: how long until it half-opens. */
  | { state: "open"; reopensInMs: number };

export interface BreakerSettings {
  failures: number;
  windowMs: number;
  cooldownMs: number;
}

export interface BreakerStore {
  states(deployments: string[]): Promise<BreakerState[]>;
  /** True if this caller may probe a half-open deployment now (one probe at a time). */
  tryProbe(deployment: string): Promise<boolean>;
  /** A failure that says something about the deployment; `openForMs` opens it at once (retry-after). */
  failure(deployment: string, openForMs?: number): Promise<void>;
  /** A probe succeeded: the deployment is closed again. */
  probeSucceeded(deployment: string): Promise<void>;
}

/**
 * The quotas of provider deployments (requests and tokens per minute, calls at once), counted
 * across every worker process. A call takes a lease before it starts and gives it back when it
 * ends, with the tokens it really used; a lease of a worker that died lapses by itself.
 */
export type QuotaGrant = { granted: true; lease: string } | { granted: false; retryInMs: number };

export interface QuotaStore {
  /** Takes room for one call expected to use `tokens`, or says how long until there may be room. */
  acquire(deployment: string, limits: DeploymentLimits, tokens: number): Promise<QuotaGrant>;
  /** The call ended: its concurrency slot is free, and its token count corrected to what it used. */
  release(deployment: string, lease: string, estimatedTokens: number, usedTokens: number): Promise<void>;
}

/** Workers and ingresses → analytics: the record of each provider call, of each request, and the audit log. */
export interface EventPublisher {
  publishAttempt(event: AttemptEventInput): Promise<void>;
  publishRequest(event: RequestEventInput): Promise<void>;
  /** Admin actions and policy decisions (governance/audit.ts). */
  publishAudit(event: AuditEventInput): Promise<void>;
}

/**
 * Events the sink is handed together: from one Kafka partition (consecutive offsets), or from
 * this process's memory on the in-process bus.
 */
export type EventBatch = EventBatchSource &
  (
    | { kind: "attempt"; events: Array<Sourced<AttemptEvent>> }
    | { kind: "request"; events: Array<Sourced<RequestEvent>> }
    | { kind: "audit"; events: Array<Sourced<AuditEvent>> }
  );

/** An event with its offset in its batch's partition (0 in process). */
export interface Sourced<T> {
  offset: number;
  event: T;
}

interface EventBatchSource {
  /** The Kafka partition and offset range (inclusive) the batch holds; undefined in process. */
  source?: { topic: string; partition: number; firstOffset: number; lastOffset: number };
  /**
   * The first batch of a partition since this consumer was given it: an earlier owner may have
   * stored some of these events and died before committing them.
   */
  mayBeStored: boolean;
  /** Keeps the batch's claim alive while it waits (Kafka: a heartbeat); false once it is no longer this consumer's to store. */
  stillOwned(): Promise<boolean>;
}

/**
 * The analytics sink's side: batches of events. A batch is acknowledged (Kafka: its offsets
 * committed) only when `handle` resolves, i.e. once the events are stored; if it throws, the
 * events are offered again (to this consumer or, after a rebalance, another).
 */
export interface EventConsumer {
  start(handle: (batch: EventBatch) => Promise<void>): Promise<void>;
  close(): Promise<void>;
}

/**
 * Workers → batch coordinators: each finished line of a batch job. Durable on Kafka (a topic), so
 * a result outlives the coordinator that was to store it; in process, a queue in memory.
 */
export interface BatchResultPublisher {
  publish(result: BatchLineResultInput): Promise<void>;
}

/**
 * A coordinator's side: results are acknowledged (Kafka: offsets committed) only once `handle`
 * resolves, i.e. once they are stored; if it throws they are offered again. A result may thus
 * come twice: storing must be idempotent.
 */
export interface BatchResultConsumer {
  start(handle: (results: BatchLineResult[]) => Promise<void>): Promise<void>;
  close(): Promise<void>;
}

/** Everything a process needs from the bus, whichever implementation backs it. */
export interface Bus {
  readonly kind: "kafka" | "in-process";
  readonly requests: RequestPublisher;
  createConsumer(): RequestConsumer;
  readonly replies: ReplySender;
  createReplyReceiver(): Promise<ReplyReceiver>;
  readonly cancels: CancelChannel;
  readonly claims: ClaimStore;
  readonly breakers: BreakerStore;
  readonly quotas: QuotaStore;
  readonly events: EventPublisher;
  createEventConsumer(): EventConsumer;
  readonly batchResults: BatchResultPublisher;
  createBatchResultConsumer(): BatchResultConsumer;
  /**
   * Whether published requests outlive every gateway process (Kafka). In process they die with
   * it, so a restarted coordinator publishes again the lines that have no result yet.
   */
  readonly retainsRequests: boolean;
  close(): Promise<void>;
}
