import type { Message, Producer } from "kafkajs";
import type { Logger } from "../../runtime/logger.ts";
import type { AvroMessage } from "./avro-message.ts";

/** One produce request's messages by topic; resolves once Kafka took them all. */
export type SendBatch<M> = (topicMessages: Array<{ topic: string; messages: M[] }>) => Promise<unknown>;

/** A kafkajs producer as a SendBatch (acks from all in-sync replicas, its default). */
export function kafkajsSendBatch<M extends Message>(producer: Producer): SendBatch<M> {
  return (topicMessages) => producer.sendBatch({ topicMessages });
}

interface Queued<M> {
  topic: string;
  message: M;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * What to do with messages Kafka refused once kafkajs's own retries are spent: `fail` their
 * senders (a request publisher answers its client at once), or `hold` them and try again until
 * Kafka takes them (events: their rows must land after a broker outage, not be lost to it). Held
 * messages are bounded: past `maxHeld` the oldest fail.
 */
export type OnRefusal = { kind: "fail" } | { kind: "hold"; maxHeld: number; log: Logger };

const firstRetryMs = 250;
const maxRetryMs = 5000;

/**
 * Gathers the messages sent within one turn of the event loop (or within `lingerMs`) into one
 * produce request. kafkajs has no linger of its own: without this, every message is a request of
 * its own to the broker, which under load costs more CPU (client and broker) than the messages.
 * With `lingerMs: 0` a lone message waits for nothing but the end of the current turn.
 * @platformatic/kafka's send is the same one request per call, so it is batched here too (its
 * producer stream batches behind a timer instead, a linger the request path would pay).
 */
export class CoalescingProducer<M = AvroMessage> {
  private queued: Array<Queued<M>> = [];
  private scheduled = false;
  private retryMs = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly sendBatch: SendBatch<M>,
    private readonly lingerMs: number,
    private readonly onRefusal: OnRefusal = { kind: "fail" },
    private readonly maxBatch = 500,
  ) {}

  /** Messages waiting to be sent (held through an outage included). */
  get waiting(): number {
    return this.queued.length;
  }

  send(topic: string, message: M): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queued.push({ topic, message, resolve, reject });
      if (this.retryMs > 0) return; // Kafka is away: the retry takes everything held.
      if (this.queued.length >= this.maxBatch) {
        void this.flush();
      } else if (!this.scheduled) {
        this.scheduled = true;
        if (this.lingerMs > 0) setTimeout(() => void this.flush(), this.lingerMs);
        else setImmediate(() => void this.flush());
      }
    });
  }

  /** Sends what is waiting; for a holding producer, the last try (it holds nothing after it). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    while (this.queued.length > 0) await this.flush();
  }

  async flush(): Promise<void> {
    this.scheduled = false;
    const batch = this.queued.splice(0, this.maxBatch);
    if (batch.length === 0) return;
    const byTopic = new Map<string, M[]>();
    for (const { topic, message } of batch) {
      const messages = byTopic.get(topic) ?? [];
      messages.push(message);
      byTopic.set(topic, messages);
    }
    try {
      await this.sendBatch([...byTopic].map(([topic, messages]) => ({ topic, messages })));
      for (const entry of batch) entry.resolve();
      if (this.retryMs > 0) this.recovered();
    } catch (error) {
      if (this.onRefusal.kind === "fail" || this.closed) {
        for (const entry of batch) entry.reject(error as Error);
        return;
      }
      this.hold(batch, error as Error, this.onRefusal);
    }
  }

  private hold(
    batch: Array<Queued<M>>,
    error: Error,
    { maxHeld, log }: Extract<OnRefusal, { kind: "hold" }>,
  ): void {
    this.queued = [...batch, ...this.queued];
    const over = this.queued.length - maxHeld;
    if (over > 0) {
      for (const entry of this.queued.splice(0, over)) entry.reject(error);
      log.error(
        { dropped: over, maxHeld },
        "Kafka is away and too many messages wait for it: the oldest are lost",
      );
    }
    if (this.retryMs === 0)
      log.warn(
        { err: error, waiting: this.queued.length },
        "Kafka refused messages; holding them until it takes them",
      );
    this.retryMs = Math.min(Math.max(this.retryMs * 2, firstRetryMs), maxRetryMs);
    this.retryTimer = setTimeout(() => void this.flushAll(), this.retryMs);
  }

  private async flushAll(): Promise<void> {
    const before = this.retryMs;
    while (this.queued.length > 0 && this.retryMs === before) await this.flush();
  }

  private recovered(): void {
    this.retryMs = 0;
    if (this.onRefusal.kind === "hold") this.onRefusal.log.info("Kafka takes messages again");
    if (this.queued.length > 0) void this.flushAll();
  }
}
