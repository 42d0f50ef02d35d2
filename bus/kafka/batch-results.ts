import type { Consumer, Kafka } from "kafkajs";
import type { GatewayConfig } from "../../config/schema.ts";
import type { BatchLineResult } from "../../schemas/batch-line-result.ts";
import { batchLineResultCodec } from "../../schemas/index.ts";
import type { BatchResultConsumer, BatchResultPublisher } from "../messaging.ts";
import { acknowledgeBatch, batchStillOwned } from "./acknowledge.ts";
import { fromKafkaMessage, toKafkaMessage } from "./avro-message.ts";
import type { CoalescingProducer } from "./coalescing-producer.ts";
import type { DeadLetters, Undecodable } from "./dead-letters.ts";
import { batchResultsTopic } from "./topics.ts";

export function createKafkaBatchResultPublisher(
  producer: CoalescingProducer,
  config: GatewayConfig["kafka"],
): BatchResultPublisher {
  return {
    // Keyed by batch: one batch's results stay in order on one partition.
    publish: (result) =>
      producer.send(
        batchResultsTopic(config),
        toKafkaMessage(batchLineResultCodec, result.envelope.batch?.batchId ?? result.envelope.id, result),
      ),
  };
}

/**
 * The coordinators' consumer group: each partition's results go to one coordinator, which
 * commits them only once it stored them. A coordinator that dies leaves its uncommitted results
 * to the next owner of the partition. Messages that are no results this release can read are kept
 * in the dead letters before the results are stored, so before their offsets are committed.
 */
export class KafkaBatchResultConsumer implements BatchResultConsumer {
  private readonly consumer: Consumer;

  private readonly groupId: string;

  constructor(
    kafka: Kafka,
    private readonly config: GatewayConfig["kafka"],
    private readonly deadLetters: DeadLetters,
  ) {
    this.groupId = `${config.topicPrefix}batch-coordinators`;
    this.consumer = kafka.consumer({
      groupId: this.groupId,
      sessionTimeout: config.sessionTimeoutMs,
      maxWaitTimeInMs: 100,
      allowAutoTopicCreation: false,
    });
  }

  async start(handle: (results: BatchLineResult[]) => Promise<void>): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [batchResultsTopic(this.config)], fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 2,
      eachBatch: async (payload) => {
        const { batch } = payload;
        if (batch.messages.length === 0) return;
        const results: BatchLineResult[] = [];
        const undecodable: Undecodable[] = [];
        for (const message of batch.messages) {
          try {
            results.push(fromKafkaMessage(batchLineResultCodec, message));
          } catch (error) {
            undecodable.push({ topic: batch.topic, partition: batch.partition, message, error });
          }
        }
        // Kept before the results are stored, so before their offsets are committed.
        if (!(await this.deadLetters.keepWhileOwned(this.groupId, undecodable, batchStillOwned(payload))))
          throw new Error("the batch is no longer this coordinator's to store");
        await handle(results);
        await acknowledgeBatch(payload);
      },
    });
  }

  async close(): Promise<void> {
    await this.consumer.disconnect();
  }
}
