import type { CancelChannel, ClaimStore } from "./coordination.ts";
import type {
  BatchResultConsumer,
  BatchResultPublisher,
  EventConsumer,
  EventPublisher,
  ReplyReceiver,
  ReplySender,
  RequestConsumer,
  RequestPublisher,
} from "./messaging.ts";

/** Messaging between roles (bus/messaging.ts), as a process sees it. */
export interface Messaging {
  readonly requests: RequestPublisher;
  createConsumer(): RequestConsumer;
  readonly replies: ReplySender;
  createReplyReceiver(): Promise<ReplyReceiver>;
  readonly events: EventPublisher;
  createEventConsumer(): EventConsumer;
  readonly batchResults: BatchResultPublisher;
  createBatchResultConsumer(): BatchResultConsumer;
  /**
   * Whether published requests outlive every gateway process (Kafka). In process they die with
   * it, so a restarted coordinator publishes again the lines that have no result yet.
   */
  readonly retainsRequests: boolean;
}

/** Coordination of work between processes (bus/coordination.ts), as a process sees it. */
export interface Coordination {
  readonly cancels: CancelChannel;
  readonly claims: ClaimStore;
}

/**
 * The bus between roles: messaging and coordination. Two implementations of each: Kafka (replies
 * on Redis pub/sub) and Redis for any number of processes, or in process for one, nothing to
 * install. Both carry the same Avro bytes, so the same code and tests run on either.
 */
export interface Bus extends Messaging, Coordination {
  readonly kind: "kafka" | "in-process";
  close(): Promise<void>;
}
