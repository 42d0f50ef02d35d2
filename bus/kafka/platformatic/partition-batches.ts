import {
  Consumer,
  type Message,
  type MessagesStream,
  MessagesStreamFallbackModes,
  MessagesStreamModes,
} from "@platformatic/kafka";
import type { GatewayConfig } from "../../../config/schema.ts";
import type { Logger } from "../../../runtime/logger.ts";
import { type Owned, partitionKey, takeAssignments } from "./assignments.ts";
import { platformaticGroupOptions } from "./client-options.ts";

/** Header names read as strings (to find the schema version); keys and values stay bytes. */
export type BatchMessage = Message<Buffer, Buffer, string, Buffer>;
type BatchStream = MessagesStream<Buffer, Buffer, string, Buffer>;

/** The messages of one partition from the last fetches, in order. */
export interface PartitionBatch {
  topic: string;
  partition: number;
  messages: BatchMessage[];
  /** The first batch of its partition since this member was given it: an earlier owner may have stored it and died before committing. */
  mayBeStored: boolean;
  /** False once the partition may be another member's (a rebalance) or the consumer is closing. */
  stillOwned(): Promise<boolean>;
}

/** Resolves true once the batch is stored (its offsets are then committed), false if it is no longer this member's. */
export type StoreBatch = (batch: PartitionBatch) => Promise<boolean>;

export interface PartitionBatchOptions {
  groupId: string;
  topics: string[];
  /** A fetch returns once this much is there, or after `maxWaitTime` ms. */
  minBytes?: number;
  maxBytesPerPartition?: number;
  maxWaitTime: number;
}

const retryMs = 1000;
const reopenAfterMs = 1000;

/**
 * A consumer group that stores what it reads batch by batch, on @platformatic/kafka, as kafkajs's
 * `eachBatch` does for the sink and the batch coordinators: the messages of a fetch (pushed by the
 * stream in one turn) are handed over as one batch per partition, all at once, and the stream
 * waits meanwhile. A batch's offsets are committed only once it is stored; one no longer owned is
 * left uncommitted to its partition's next owner. Heartbeats run on their own.
 */
export class PartitionBatchConsumer {
  private readonly consumer: Consumer<Buffer, Buffer, string, Buffer>;
  private stream: BatchStream | undefined;
  private owned: Owned = new Set();
  /** Partitions handed a batch since the last group join: their later batches are new to the store. */
  private readonly seen = new Set<string>();
  private gathered: BatchMessage[] = [];
  /** The hand-over under way: closing waits for it, so that what it stored is committed. */
  private delivering: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    config: GatewayConfig["kafka"],
    private readonly options: PartitionBatchOptions,
    private readonly log: Logger,
  ) {
    this.consumer = new Consumer({
      ...platformaticGroupOptions(config, options.groupId),
      minBytes: options.minBytes,
      maxBytesPerPartition: options.maxBytesPerPartition,
      maxWaitTime: options.maxWaitTime,
    });
    this.consumer.on("consumer:group:join", ({ assignments }) => {
      this.seen.clear();
      this.owned = takeAssignments(this.owned, assignments ?? [], this.stream ? [this.stream] : []);
    });
    // A failed rejoin; the consumer keeps trying by itself.
    this.consumer.on("error", (error) => this.log.warn({ err: error }, "Kafka consumer error"));
  }

  async start(store: StoreBatch): Promise<void> {
    await this.open(store);
  }

  private async open(store: StoreBatch): Promise<void> {
    const stream = await this.consumer.consume({
      topics: this.options.topics,
      // A new group reads from the start, as on kafkajs.
      mode: MessagesStreamModes.COMMITTED,
      fallbackMode: MessagesStreamFallbackModes.EARLIEST,
    });
    this.stream = stream;
    stream.on("data", (message: BatchMessage) => {
      if (this.gathered.push(message) === 1)
        setImmediate(() => {
          this.delivering = this.deliver(stream, store);
        });
    });
    stream.on("error", (error) => this.reopenLater(store, error));
  }

  /**
   * A stream that failed (its fetches gave up, say while the broker is away) is opened anew, once
   * the hand-over under way is done. The new one reads from the committed offsets, so what was
   * stored and not yet committed comes again: every partition's first batch is marked as maybe stored.
   */
  private reopenLater(store: StoreBatch, error: Error): void {
    if (this.closed) return;
    this.log.error({ err: error, retryMs: reopenAfterMs }, "Kafka stream failed; opening it again");
    setTimeout(async () => {
      await this.delivering;
      if (this.closed) return;
      this.seen.clear();
      this.open(store).catch((again: Error) => this.reopenLater(store, again));
    }, reopenAfterMs).unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.delivering;
    await this.consumer.close(true);
  }

  /** Hands over what the last fetches brought, a batch per partition, all at once. */
  private async deliver(stream: BatchStream, store: StoreBatch): Promise<void> {
    const messages = this.gathered;
    this.gathered = [];
    stream.pause();
    try {
      await Promise.all([...byPartition(messages)].map(([key, batch]) => this.handOver(key, batch, store)));
    } finally {
      if (!this.closed) stream.resume();
    }
  }

  /**
   * One partition's batch to be stored, then its commit. A store that fails while the batch is
   * still this member's gets it again a second later, marked as possibly stored: the stream has
   * read past it and will not bring it back.
   */
  private async handOver(key: string, messages: BatchMessage[], store: StoreBatch): Promise<void> {
    const { topic, partition } = messages[0] as BatchMessage;
    const last = messages.at(-1) as BatchMessage;
    const stillOwned = async () => !this.closed && this.owned.has(key);
    for (let mayBeStored = !this.seen.has(key); ; mayBeStored = true) {
      try {
        if (!(await store({ topic, partition, messages, mayBeStored, stillOwned }))) return;
        break;
      } catch (error) {
        this.log.warn({ err: error, topic, partition }, "batch not stored");
        await new Promise((resolve) => setTimeout(resolve, retryMs).unref());
        // Not ours any more: uncommitted, the partition's next owner reads it anew.
        if (!(await stillOwned())) return;
      }
    }
    this.seen.add(key);
    await this.consumer
      .commit({ offsets: [{ topic, partition, offset: last.offset + 1n, leaderEpoch: last.leaderEpoch }] })
      // Stored all the same: the next batch's commit covers it, or its next owner is told it may be stored.
      .catch((error: Error) => this.log.warn({ err: error, topic, partition }, "commit failed"));
  }
}

/** Messages by partition, each partition's in the order they were read. */
function byPartition(messages: BatchMessage[]): Map<string, BatchMessage[]> {
  const batches = new Map<string, BatchMessage[]>();
  for (const message of messages) {
    const key = partitionKey(message.topic, message.partition);
    const batch = batches.get(key);
    if (batch) batch.push(message);
    else batches.set(key, [message]);
  }
  return batches;
}
