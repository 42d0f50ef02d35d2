import type { GatewayConfig } from "../../../config/schema.ts";
import type { Logger } from "../../../runtime/logger.ts";
import type { BatchLineResult } from "../../../schemas/batch-line-result.ts";
import { batchLineResultCodec } from "../../../schemas/index.ts";
import type { BatchResultConsumer } from "../../messaging.ts";
import { readRecord, schemaVersionHeader } from "../avro-message.ts";
import type { DeadLetters, Undecodable } from "../dead-letters.ts";
import { batchResultsTopic } from "../topics.ts";
import { asKafkajsMessage } from "./assignments.ts";
import { PartitionBatchConsumer } from "./partition-batches.ts";

/**
 * The batch coordinators' consumer on @platformatic/kafka, as on kafkajs: each partition's results
 * go to one coordinator, which commits them once it stored them; undecodable messages are kept in
 * the dead letters before the results are stored.
 */
export class PlatformaticBatchResultConsumer implements BatchResultConsumer {
  private readonly batches: PartitionBatchConsumer;
  private readonly groupId: string;

  constructor(
    config: GatewayConfig["kafka"],
    private readonly deadLetters: DeadLetters,
    log: Logger,
  ) {
    this.groupId = `${config.topicPrefix}batch-coordinators`;
    this.batches = new PartitionBatchConsumer(
      config,
      { groupId: this.groupId, topics: [batchResultsTopic(config)], maxWaitTime: 100 },
      log,
    );
  }

  start(handle: (results: BatchLineResult[]) => Promise<void>): Promise<void> {
    return this.batches.start(async ({ topic, partition, messages, stillOwned }) => {
      const results: BatchLineResult[] = [];
      const undecodable: Undecodable[] = [];
      for (const message of messages) {
        try {
          const version = message.headers.get(schemaVersionHeader)?.toString();
          results.push(readRecord(batchLineResultCodec, message.value, version));
        } catch (error) {
          undecodable.push({ topic, partition, message: asKafkajsMessage(message), error });
        }
      }
      // Kept before the results are stored, so before their offsets are committed.
      if (!(await this.deadLetters.keepWhileOwned(this.groupId, undecodable, stillOwned))) return false;
      await handle(results);
      return true;
    });
  }

  close(): Promise<void> {
    return this.batches.close();
  }
}
