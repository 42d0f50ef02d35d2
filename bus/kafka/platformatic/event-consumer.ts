import type { GatewayConfig } from "../../../config/schema.ts";
import type { Logger } from "../../../runtime/logger.ts";
import type { EventBatch, EventConsumer } from "../../messaging.ts";
import { schemaVersionHeader } from "../avro-message.ts";
import type { DeadLetters, Undecodable } from "../dead-letters.ts";
import { decodeEvents } from "../events.ts";
import { eventKinds, eventsTopic } from "../topics.ts";
import { asKafkajsMessage } from "./assignments.ts";
import { PartitionBatchConsumer } from "./partition-batches.ts";

/**
 * The sink's consumer on @platformatic/kafka, with the kafkajs one's semantics: a batch per
 * partition per fetch, all of a fetch's at once (the sink stores them with one insert per table),
 * committed once stored; undecodable messages kept in the dead letters before their batch is stored.
 */
export class PlatformaticEventConsumer implements EventConsumer {
  private readonly batches: PartitionBatchConsumer;
  private readonly groupId: string;
  private readonly kindOf: Map<string, (typeof eventKinds)[number]>;

  constructor(
    config: GatewayConfig["kafka"],
    sink: GatewayConfig["analytics"]["sink"],
    private readonly deadLetters: DeadLetters,
    log: Logger,
  ) {
    this.groupId = `${config.topicPrefix}analytics`;
    this.kindOf = new Map(eventKinds.map((kind) => [eventsTopic(config, kind), kind]));
    this.batches = new PartitionBatchConsumer(
      config,
      {
        groupId: this.groupId,
        topics: [...this.kindOf.keys()],
        minBytes: sink.minBatchBytes,
        maxBytesPerPartition: sink.maxBatchBytes,
        maxWaitTime: sink.maxWaitMs,
      },
      log,
    );
  }

  start(handle: (batch: EventBatch) => Promise<void>): Promise<void> {
    return this.batches.start(async ({ topic, partition, messages, mayBeStored, stillOwned }) => {
      const undecodable: Undecodable[] = [];
      const events = decodeEvents(
        this.kindOf.get(topic),
        messages,
        (message) => ({
          offset: Number(message.offset),
          value: message.value,
          version: message.headers.get(schemaVersionHeader)?.toString(),
        }),
        (message, error) => undecodable.push({ topic, partition, message: asKafkajsMessage(message), error }),
      );
      // Kept before the batch is stored, so before its offsets are committed.
      if (!(await this.deadLetters.keepWhileOwned(this.groupId, undecodable, stillOwned))) return false;
      const [first, last] = [messages[0], messages.at(-1)];
      await handle({
        ...events,
        source: { topic, partition, firstOffset: Number(first?.offset), lastOffset: Number(last?.offset) },
        mayBeStored,
        stillOwned,
      });
      return true;
    });
  }

  close(): Promise<void> {
    return this.batches.close();
  }
}
