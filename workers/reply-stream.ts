import type { Finishing } from "../bus/coordination.ts";
import type { ReplySender } from "../bus/messaging.ts";
import type { ReplyEventInput } from "../schemas/reply-event.ts";

type EventBody = Omit<ReplyEventInput, "requestId" | "attempt" | "seq">;

/**
 * The events of one attempt, numbered in order, to the ingress holding the client. While the
 * provider is silent (queueing, thinking) a heartbeat goes out every `heartbeatMs`, so the ingress
 * can tell a slow provider from a dead worker; the first of them is a `started` event saying who
 * serves the request. A quick answer needs neither, and costs no message for them.
 */
export class ReplyStream {
  private seq = 0;
  private lastSent = Date.now();
  private readonly heartbeat: NodeJS.Timeout;
  private flushed: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  private started: NonNullable<ReplyEventInput["started"]> | undefined;

  constructor(
    private readonly sender: ReplySender,
    private readonly address: string,
    private readonly requestId: string,
    private readonly attempt: string,
    heartbeatMs: number,
    onHeartbeat: () => void,
  ) {
    this.heartbeat = setInterval(() => {
      onHeartbeat();
      if (Date.now() - this.lastSent < heartbeatMs) return;
      this.send(
        this.seq === 0 && this.started ? { kind: "started", started: this.started } : { kind: "heartbeat" },
      );
    }, heartbeatMs);
  }

  /** Who serves the request, for the first liveness signal. */
  announce(started: NonNullable<ReplyEventInput["started"]>): void {
    this.started = started;
  }

  /**
   * Sends without waiting: the transport keeps order (one Redis connection, or a function call),
   * and a provider's next token should not wait for the previous one's round trip. `finish` goes
   * with a request's last event (see ReplySender).
   */
  send(body: EventBody, finish?: Finishing): void {
    const event: ReplyEventInput = {
      requestId: this.requestId,
      attempt: this.attempt,
      seq: this.seq++,
      ...body,
    };
    this.lastSent = Date.now();
    const sending = this.sender.send(this.address, event, finish).catch((error: Error) => {
      this.failure ??= error;
    });
    this.flushed = sending;
  }

  /** Stops the heartbeat and waits until the last event has left; throws if any could not be sent. */
  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    await this.flushed;
    if (this.failure) throw this.failure;
  }
}
