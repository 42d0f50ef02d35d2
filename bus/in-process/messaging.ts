import type { GatewayConfig } from "../../config/schema.ts";
import type { AttemptEventInput } from "../../schemas/attempt-event.ts";
import type { AuditEventInput } from "../../schemas/audit-event.ts";
import type { BatchLineResult, BatchLineResultInput } from "../../schemas/batch-line-result.ts";
import type { Codec } from "../../schemas/codec.ts";
import {
  attemptEventCodec,
  auditEventCodec,
  batchLineResultCodec,
  replyEventCodec,
  requestEnvelopeCodec,
  requestEventCodec,
} from "../../schemas/index.ts";
import type { ReplyEvent } from "../../schemas/reply-event.ts";
import { type Priority, priorities, type RequestEnvelopeInput } from "../../schemas/request-envelope.ts";
import type { RequestEventInput } from "../../schemas/request-event.ts";
import type { Messaging } from "../bus.ts";
import type {
  BatchResultConsumer,
  BatchResultPublisher,
  DeliverySink,
  EventBatch,
  EventConsumer,
  EventPublisher,
  ReplyReceiver,
  ReplySender,
  RequestConsumer,
  RequestPublisher,
  Sourced,
} from "../messaging.ts";

/**
 * The messaging of a single process: queues in memory, replies as function calls. Messages still
 * go through their Avro encoding, so a schema mistake shows here as it would on Kafka. There are
 * no dead letters here: every message is written and read by this process, with the same codecs,
 * so none can be undecodable (on Kafka, another release or another producer can write one:
 * bus/kafka/dead-letters.ts).
 */
export function createInProcessMessaging(
  sink: GatewayConfig["analytics"]["sink"],
): Messaging & { close(): Promise<void> } {
  const requests = new InProcessRequestQueue();
  const events = new InProcessEvents(sink.maxWaitMs);
  const batchResults = new InProcessBatchResults();
  const replyHandlers = new Map<string, (event: ReplyEvent) => void>();
  let receivers = 0;

  const replies: ReplySender = {
    async send(address, event) {
      replyHandlers.get(address)?.(replyEventCodec.decode(replyEventCodec.encode(event)));
    },
  };

  return {
    requests,
    createConsumer: () => requests,
    replies,
    async createReplyReceiver(): Promise<ReplyReceiver> {
      const address = `in-process-${++receivers}`;
      return {
        address,
        async listen(handler) {
          replyHandlers.set(address, handler);
        },
        async close() {
          replyHandlers.delete(address);
        },
      };
    },
    events,
    createEventConsumer: () => events,
    batchResults,
    createBatchResultConsumer: () => batchResults,
    retainsRequests: false,
    async close() {
      replyHandlers.clear();
      await Promise.all([events.close(), batchResults.close()]);
    },
  };
}

class InProcessRequestQueue implements RequestPublisher, RequestConsumer {
  private readonly waiting = Object.fromEntries(
    priorities.map((priority) => [priority, [] as Buffer[]]),
  ) as Record<Priority, Buffer[]>;
  private readonly paused = new Set<Priority>();
  private sink: DeliverySink | undefined;

  async publish(envelope: RequestEnvelopeInput): Promise<void> {
    this.waiting[envelope.priority].push(requestEnvelopeCodec.encode(envelope));
    this.drain(envelope.priority);
  }

  async start(sink: DeliverySink): Promise<void> {
    this.sink = sink;
    for (const priority of priorities) this.drain(priority);
  }

  resume(priority: Priority): void {
    this.paused.delete(priority);
    this.drain(priority);
  }

  async stop(): Promise<void> {
    this.sink = undefined;
  }

  async close(): Promise<void> {}

  private drain(priority: Priority): void {
    const queue = this.waiting[priority];
    while (this.sink && !this.paused.has(priority) && queue.length > 0) {
      const envelope = requestEnvelopeCodec.decode(queue.shift() as Buffer);
      const hasRoom = this.sink.offer(priority, { envelope, stillOwned: () => true, settle: () => {} });
      if (!hasRoom) this.paused.add(priority);
    }
  }
}

/**
 * Batch results wait in memory for the coordinator, which takes them in order, one handful at a
 * time; those it fails to store are offered again a moment later.
 */
class InProcessBatchResults implements BatchResultPublisher, BatchResultConsumer {
  private waiting: BatchLineResult[] = [];
  private handle: ((results: BatchLineResult[]) => Promise<void>) | undefined;
  private delivering: Promise<void> | undefined;
  private retry: NodeJS.Timeout | undefined;

  async publish(result: BatchLineResultInput): Promise<void> {
    this.waiting.push(batchLineResultCodec.decode(batchLineResultCodec.encode(result)));
    this.deliver();
  }

  async start(handle: (results: BatchLineResult[]) => Promise<void>): Promise<void> {
    this.handle = handle;
    this.deliver();
  }

  async close(): Promise<void> {
    this.handle = undefined;
    clearTimeout(this.retry);
    await this.delivering;
  }

  private deliver(): void {
    if (this.delivering || !this.handle || this.waiting.length === 0) return;
    const handle = this.handle;
    const taken = this.waiting.splice(0, batchResultsPerHandle);
    this.delivering = handle(taken).then(
      () => {
        this.delivering = undefined;
        this.deliver();
      },
      () => {
        this.waiting = [...taken, ...this.waiting];
        this.delivering = undefined;
        this.retry = setTimeout(() => this.deliver(), 1000);
      },
    );
  }
}

const batchResultsPerHandle = 100;

/**
 * Events wait in memory and go to the sink in batches; a batch the sink gives up on (the process
 * is closing) goes back to the front of the queue. Nothing survives the process: the in-process
 * bus is for one machine trying the gateway.
 */
class InProcessEvents implements EventPublisher, EventConsumer {
  private readonly attempts = new WaitingEvents(attemptEventCodec, () => this.flush());
  private readonly requests = new WaitingEvents(requestEventCodec, () => this.flush());
  private readonly audits = new WaitingEvents(auditEventCodec, () => this.flush());
  private handle: ((batch: EventBatch) => Promise<void>) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;

  /** `flushMs`: as on Kafka (analytics.sink.maxWaitMs), since each batch is an insert and ClickHouse's CPU goes by inserts. */
  constructor(private readonly flushMs: number) {}

  async publishAttempt(event: AttemptEventInput): Promise<void> {
    this.attempts.add(event);
  }

  async publishRequest(event: RequestEventInput): Promise<void> {
    this.requests.add(event);
  }

  async publishAudit(event: AuditEventInput): Promise<void> {
    this.audits.add(event);
  }

  async start(handle: (batch: EventBatch) => Promise<void>): Promise<void> {
    this.handle = handle;
    this.timer = setInterval(() => this.flush(), this.flushMs);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.flush();
    this.closed = true;
    await this.flushing;
    this.handle = undefined;
  }

  private flush(): void {
    this.flushing = this.flushing.then(async () => {
      const handle = this.handle;
      if (!handle) return;
      const attempts = this.attempts.take();
      const requests = this.requests.take();
      const audits = this.audits.take();
      const batch = { mayBeStored: false, stillOwned: async () => !this.closed };
      if (attempts.length > 0)
        await handle({ ...batch, kind: "attempt", events: attempts }).catch(() =>
          this.attempts.giveBack(attempts),
        );
      if (requests.length > 0)
        await handle({ ...batch, kind: "request", events: requests }).catch(() =>
          this.requests.giveBack(requests),
        );
      if (audits.length > 0)
        await handle({ ...batch, kind: "audit", events: audits }).catch(() => this.audits.giveBack(audits));
    });
  }
}

/** Events of one kind waiting for the sink, in the order they were published. */
class WaitingEvents<T, Input> {
  private events: T[] = [];

  constructor(
    private readonly codec: Codec<T, Input>,
    private readonly full: () => void,
  ) {}

  /** Through Avro and back, as on Kafka: what the sink gets is what a reader of the schema would. */
  add(input: Input): void {
    this.events.push(this.codec.decode(this.codec.encode(input)));
    if (this.events.length >= eventBatchSize) this.full();
  }

  take(): Array<Sourced<T>> {
    const taken = this.events;
    this.events = [];
    return taken.map((event) => ({ offset: 0, event }));
  }

  /** A batch the sink gave up on goes back to the front. */
  giveBack(batch: Array<Sourced<T>>): void {
    this.events = [...batch.map(({ event }) => event), ...this.events];
  }
}

const eventBatchSize = 1000;
