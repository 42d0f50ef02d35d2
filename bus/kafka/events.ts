import type { Consumer, Kafka } from "kafkajs";
import type { GatewayConfig } from "../../config/schema.ts";
import type { Logger } from "../../runtime/logger.ts";
import type { AttemptEvent } from "../../schemas/attempt-event.ts";
import { attemptEventCodec } from "../../schemas/index.ts";
import type { EventConsumer, EventPublisher } from "../contracts.ts";
import { GroupHandoff } from "../group-handoff.ts";
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
 * The sink's consumer. The broker does the batching: a fetch returns once `minBytes` of events are
 * there or `maxWaitTimeInMs` has passed, and the batches of its partitions are stored together. A batch's offsets are committed only after the handler
 * stored it; if storing fails, kafkajs fetches the same events again (nothing is lost).
 */
const groupWindowMs = 50;

export class KafkaEventConsumer implements EventConsumer {
  private readonly consumer: Consumer;

  constructor(
    kafka: Kafka,
    private readonly config: GatewayConfig["kafka"],
    private readonly log: Logger,
  ) {
    this.consumer = kafka.consumer({
      groupId: `${config.topicPrefix}analytics`,
      sessionTimeout: config.sessionTimeoutMs,
      minBytes: 64 * 1024,
      maxWaitTimeInMs: 500,
      allowAutoTopicCreation: false,
    });
  }

  async start(handle: (events: AttemptEvent[]) => Promise<void>): Promise<void> {
    // The batches of all partitions of one fetch are handled together: one insert, not one per partition.
    const handoff = new GroupHandoff(handle, groupWindowMs);
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: eventsTopic(this.config), fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.config.partitions,
      eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary }) => {
        const events: AttemptEvent[] = [];
        for (const message of batch.messages) {
          try {
            events.push(fromKafkaMessage(attemptEventCodec, message));
          } catch (error) {
            this.log.error({ err: error, offset: message.offset }, "undecodable event skipped");
          }
        }
        if (events.length > 0) await handoff.add(events);
        const last = batch.messages.at(-1);
        if (!last) return;
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
