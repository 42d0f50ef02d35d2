import type { Bus } from "../bus/bus.ts";
import type { ReplyReceiver } from "../bus/messaging.ts";
import type { GatewayConfig } from "../config/schema.ts";
import type { Logger } from "../runtime/logger.ts";
import type { AttemptEventInput } from "../schemas/attempt-event.ts";
import { GatewayError } from "../schemas/errors.ts";
import { replyEventCodec } from "../schemas/index.ts";
import type { ReplyEvent } from "../schemas/reply-event.ts";
import type { Priority, RequestEnvelopeInput } from "../schemas/request-envelope.ts";
import type { RequestEventInput } from "../schemas/request-event.ts";
import { EventQueue } from "./event-queue.ts";

/** Events that carry part of the answer: once one reached the client, another attempt cannot take over. */
export const contentKinds = new Set<ReplyEvent["kind"]>(["text_delta", "tool_call_delta", "embedding"]);

/** A request in flight from this ingress: its reply events, in order, from one attempt only. */
export interface PendingRequest extends AsyncIterable<ReplyEvent> {
  readonly id: string;
  /** The client went away: stop the worker and forget the request. */
  cancel(): void;
}

/**
 * Publishes requests to the bus and routes the reply events back to the waiting callers. It owns
 * the ingress's rules about workers:
 * - a request's events come from one attempt; if that worker dies before any content reached
 *   the client, the redelivered attempt takes over unseen; after content, the client gets an error
 *   (never duplicated or mixed text);
 * - a started request whose worker stays silent past `workerSilenceMs` is presumed lost;
 * - every request ends by its deadline;
 * - at most `maxInFlight` requests per priority are held at once (then: overloaded + Retry-After).
 */
export class Dispatcher {
  private readonly pending = new Map<string, Tracker>();
  private readonly counts: Record<Priority, number> = { interactive: 0, default: 0, batch: 0 };

  constructor(
    private readonly bus: Bus,
    private readonly receiver: ReplyReceiver,
    private readonly config: GatewayConfig["ingress"],
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.receiver.listen((event) => this.pending.get(event.requestId)?.receive(event));
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** This ingress, as named in the events it records itself: its reply address. */
  get id(): string {
    return this.receiver.address;
  }

  /** Records the analytics event of an answer this ingress gave itself (a cache hit). */
  recordAttempt(event: AttemptEventInput): void {
    this.bus.events
      .publishAttempt(event)
      .catch((error: Error) => this.log.error({ err: error, requestId: event.requestId }, "event lost"));
  }

  /** Records an analytics event of a request as its caller saw it. */
  recordRequest(event: RequestEventInput): void {
    this.bus.events
      .publishRequest(event)
      .catch((error: Error) => this.log.error({ err: error, requestId: event.requestId }, "event lost"));
  }

  /** Publishes the request and returns its event stream; throws `overloaded` when this priority is full. */
  async submit(
    envelope: Omit<RequestEnvelopeInput, "replyTo" | "deadlineMs" | "receivedAtMs">,
  ): Promise<PendingRequest> {
    const priority = envelope.priority;
    if (this.counts[priority] >= this.config.maxInFlight[priority]) {
      throw new GatewayError(
        "overloaded",
        `this gateway holds its maximum of ${priority} requests; retry shortly`,
        {
          retryAfterMs: 1000,
        },
      );
    }
    const receivedAtMs = Date.now();
    const deadlineMs = receivedAtMs + this.config.requestTimeoutMs;
    const tracker = new Tracker(envelope.id, deadlineMs, this.config.workerSilenceMs, () =>
      this.forget(envelope.id, priority),
    );
    tracker.onCancel = () => {
      this.bus.cancels
        .cancel(envelope.id)
        .catch((error: Error) => this.log.warn({ err: error }, "cancel not sent"));
    };
    this.pending.set(envelope.id, tracker);
    this.counts[priority]++;
    try {
      await this.bus.requests.publish({
        ...envelope,
        replyTo: this.receiver.address,
        receivedAtMs,
        deadlineMs,
      });
    } catch (error) {
      tracker.finish();
      this.log.error({ err: error, requestId: envelope.id }, "request could not be published");
      throw new GatewayError("overloaded", "the gateway could not queue the request; retry shortly", {
        retryAfterMs: 1000,
      });
    }
    return tracker;
  }

  /** Ends every pending request with an error event (used when the grace period of a shutdown is over). */
  abortAll(error: GatewayError): void {
    for (const tracker of this.pending.values()) tracker.fail(error);
  }

  private forget(id: string, priority: Priority): void {
    if (this.pending.delete(id)) this.counts[priority]--;
  }
}

class Tracker implements PendingRequest {
  /**
   * No worker's answer is wanted any more (the client went away, or was told the request failed):
   * whoever runs it stops, and a later delivery of it is refused, so no provider bills an answer
   * nobody receives.
   */
  onCancel: () => void = () => {};
  private readonly queue = new EventQueue<ReplyEvent>();
  private attempt: string | undefined;
  private nextSeq = 0;
  private contentSent = false;
  private finished = false;
  private silence: NodeJS.Timeout | undefined;
  private readonly deadline: NodeJS.Timeout;

  constructor(
    readonly id: string,
    deadlineMs: number,
    private readonly silenceMs: number,
    private readonly onFinish: () => void,
  ) {
    this.deadline = setTimeout(
      () =>
        this.fail(
          new GatewayError("timeout", "the request did not finish within the gateway's request timeout"),
        ),
      deadlineMs - Date.now(),
    );
  }

  receive(event: ReplyEvent): void {
    if (this.finished) return;
    // The first events of the only attempt never came (the reply channel was down): they cannot be had.
    if (this.attempt === undefined && event.seq !== 0) {
      this.fail(new GatewayError("internal", "the reply stream from the worker lost events"));
      return;
    }
    if (event.attempt !== this.attempt) {
      // A new attempt: the request was redelivered. Take it over only if the client saw nothing yet.
      if (this.contentSent || event.seq !== 0) return;
      this.attempt = event.attempt;
      this.nextSeq = 0;
      this.queue.clear();
    }
    if (event.seq !== this.nextSeq) {
      this.fail(new GatewayError("internal", "the reply stream from the worker lost events"));
      return;
    }
    this.nextSeq++;
    this.watchSilence();
    if (event.kind === "heartbeat") return;
    this.queue.push(event);
    if (event.kind === "completed" || event.kind === "failed") this.finish();
  }

  fail(error: GatewayError): void {
    if (this.finished) return;
    // Through the codec, so that every field the event has gets its default.
    const failed = replyEventCodec.encode({
      requestId: this.id,
      attempt: this.attempt ?? "",
      seq: this.nextSeq,
      kind: "failed",
      failure: {
        code: error.code,
        message: error.message,
        status: error.status,
        retryAfterMs: error.details.retryAfterMs ?? null,
      },
    });
    this.queue.push(replyEventCodec.decode(failed));
    this.finish();
    this.onCancel();
  }

  cancel(): void {
    if (this.finished) return;
    this.finish();
    this.onCancel();
  }

  finish(): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.deadline);
    clearTimeout(this.silence);
    this.queue.end();
    this.onFinish();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ReplyEvent> {
    try {
      for await (const event of this.queue) {
        if (contentKinds.has(event.kind)) this.contentSent = true;
        yield event;
      }
    } finally {
      // The consumer stopped reading before the end: the client is gone.
      if (!this.finished) this.cancel();
    }
  }

  /** A started attempt must keep talking; if it falls silent its worker is presumed dead. */
  private watchSilence(): void {
    // Restarted on every event (several a reply): one timer refreshed, not a new one each time.
    if (this.silence) {
      this.silence.refresh();
      return;
    }
    this.silence = setTimeout(() => {
      if (this.contentSent) {
        this.fail(
          new GatewayError(
            "provider_error",
            "the worker serving this request stopped mid-answer; retry the request",
          ),
        );
      } else {
        // Nothing reached the client: wait for Kafka to hand the request to another worker.
        this.attempt = undefined;
        this.queue.clear();
      }
    }, this.silenceMs);
  }
}
