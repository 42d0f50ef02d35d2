import type { Consumer, Kafka } from "kafkajs";
import type { GatewayConfig } from "../../config/schema.ts";
import type { Logger } from "../../runtime/logger.ts";
import { attemptEventCodec } from "../../schemas/index.ts";
import type { EventBatch, EventConsumer, EventPublisher } from "../contracts.ts";
import { fromKafkaMessage, toKafkaMessage } from "./avro-message.ts";
import type { CoalescingProducer } from "./coalescing-producer.ts";
import { eventsTopic } from "./topics.ts";

export function createKafkaEventPublisher(
  producer: CoalescingProducer,
  config: GatewayConfig["kafka"],
): EventPublisher {
  return {
    publish: (event) =>
      producer.send(eventsTopic(config), toKafkaMessage(attemptEventCodec, event.requestId, event)),
  };
}

/**
 * The sink's consumer: one batch per partition per fetch. The broker does the batching: a fetch
 * returns once `minBytes` of events are there or `maxWaitTimeInMs` has passed, and takes at most
 * `maxBytesPerPartition` of a partition. A batch's offsets are committed only after the handler
 * stored it; if storing fails, the same events are offered again (nothing is lost), and the first
 * batch of each partition after a (re)assignment is marked as possibly stored already.
 */
export class KafkaEventConsumer implements EventConsumer {
  private readonly consumer: Consumer;
  /** Partitions handed a batch since the last group join: their later batches are new to the store. */
  private readonly seen = new Set<number>();

  constructor(
    kafka: Kafka,
    private readonly config: GatewayConfig["kafka"],
    sink: GatewayConfig["analytics"]["sink"],
    private readonly log: Logger,
  ) {
    this.consumer = kafka.consumer({
      groupId: `${config.topicPrefix}analytics`,
      sessionTimeout: config.sessionTimeoutMs,
      minBytes: sink.minBatchBytes,
      maxBytesPerPartition: sink.maxBatchBytes,
      maxWaitTimeInMs: sink.maxWaitMs,
      allowAutoTopicCreation: false,
    });
  }

  async start(handle: (batch: EventBatch) => Promise<void>): Promise<void> {
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => this.seen.clear());
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: eventsTopic(this.config), fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.config.eventPartitions,
      eachBatch: async ({
        batch,
        resolveOffset,
        heartbeat,
        commitOffsetsIfNecessary,
        isRunning,
        isStale,
      }) => {
        const first = batch.messages[0];
        const last = batch.messages.at(-1);
        if (!first || !last) return;
        const events: EventBatch["events"] = [];
        for (const message of batch.messages) {
          try {
            events.push({
              offset: Number(message.offset),
              event: fromKafkaMessage(attemptEventCodec, message),
            });
          } catch (error) {
            this.log.error({ err: error, offset: message.offset }, "undecodable event skipped");
          }
        }
        const mayBeStored = !this.seen.has(batch.partition);
        await handle({
          events,
          source: {
            topic: batch.topic,
            partition: batch.partition,
            firstOffset: Number(first.offset),
            lastOffset: Number(last.offset),
          },
          mayBeStored,
          stillOwned: async () => {
            if (!isRunning() || isStale()) return false;
            try {
              await heartbeat();
              return true;
            } catch {
              return false; // a rebalance: the partition may be another consumer's now
            }
          },
        });
        this.seen.add(batch.partition);
        resolveOffset(last.offset);
        await commitOffsetsIfNecessary({
          topics: [
            {
              topic: batch.topic,
              partitions: [{ partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() }],
            },
          ],
        });
        await heartbeat();
      },
    });
  }

  async close(): Promise<void> {
    await this.consumer.disconnect();
  }
}
