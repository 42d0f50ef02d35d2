import type { AttemptEvent, AttemptEventInput } from "../schemas/attempt-event.ts";
import type { AuditEvent, AuditEventInput } from "../schemas/audit-event.ts";
import type { BatchLineResult, BatchLineResultInput } from "../schemas/batch-line-result.ts";
import type { ReplyEvent, ReplyEventInput } from "../schemas/reply-event.ts";
import type { Priority, RequestEnvelope, RequestEnvelopeInput } from "../schemas/request-envelope.ts";
import type { RequestEvent, RequestEventInput } from "../schemas/request-event.ts";
import type { Finishing } from "./coordination.ts";
/**
 * Messaging between roles: requests to the workers, replies to the ingress holding the client,
 * events to analytics, batch results to the coordinators. In process, or on Kafka (and Redis
 * pub/sub for replies); both carry the same Avro bytes.
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

/** Ingress side of the reply channel: one address per ingress instance. */
export interface ReplyReceiver {
  readonly address: string;
  listen(handler: (event: ReplyEvent) => void): Promise<void>;
  close(): Promise<void>;
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
