import type { Consumer, Kafka } from "kafkajs";
import type { GatewayConfig } from "../../config/schema.ts";
import type { Codec } from "../../schemas/codec.ts";
import { attemptEventCodec, auditEventCodec, requestEventCodec } from "../../schemas/index.ts";
import type { EventBatch, EventConsumer, EventPublisher, Sourced } from "../messaging.ts";
import { acknowledgeBatch, batchStillOwned } from "./acknowledge.ts";
import { readRecord, schemaVersionHeader, toKafkaMessage } from "./avro-message.ts";
import type { CoalescingProducer } from "./coalescing-producer.ts";
import type { DeadLetters, Undecodable } from "./dead-letters.ts";
import { type EventKind, eventKinds, eventsTopic } from "./topics.ts";

export function createKafkaEventPublisher(
  producer: CoalescingProducer,
  config: GatewayConfig["kafka"],
): EventPublisher {
  return {
    publishAttempt: (event) =>
      producer.send(
        eventsTopic(config, "attempt"),
        toKafkaMessage(attemptEventCodec, event.requestId, event),
      ),
    publishRequest: (event) =>
      producer.send(
        eventsTopic(config, "request"),
        toKafkaMessage(requestEventCodec, event.requestId, event),
      ),
    publishAudit: (event) =>
      producer.send(eventsTopic(config, "audit"), toKafkaMessage(auditEventCodec, event.eventId, event)),
  };
}

/** A batch's events and their kind, kind by kind. */
type DecodedEvents = EventBatch extends infer Batch
  ? Batch extends EventBatch
    ? Pick<Batch, "kind" | "events">
    : never
  : never;

/** A read event message, whichever client read it: its offset, bytes and schema-version header. */
export interface ReadEvent {
  offset: number;
  value: Buffer | null | undefined;
  version: string | undefined;
}

/** The events of one partition's messages, read with their topic's codec; what cannot be read goes to `undecodable`. */
export function decodeEvents<M>(
  kind: EventKind | undefined,
  messages: M[],
  read: (message: M) => ReadEvent,
  undecodable: (message: M, error: unknown) => void,
): DecodedEvents {
  const decoded = <T>(codec: Codec<T, unknown>) => {
    const events: Array<Sourced<T>> = [];
    for (const message of messages) {
      const { offset, value, version } = read(message);
      try {
        events.push({ offset, event: readRecord(codec, value, version) });
      } catch (error) {
        undecodable(message, error);
      }
    }
    return events;
  };
  return kind === "attempt"
    ? { kind, events: decoded(attemptEventCodec) }
    : kind === "request"
      ? { kind, events: decoded(requestEventCodec) }
      : { kind: "audit", events: decoded(auditEventCodec) };
}

/**
 * The sink's consumer: one batch per partition per fetch. The broker does the batching: a fetch
 * returns once `minBytes` of events are there or `maxWaitTimeInMs` has passed, and takes at most
 * `maxBytesPerPartition` of a partition. A batch's offsets are committed only after the handler
 * stored it; if storing fails, the same events are offered again (nothing is lost), and the first
 * batch of each partition after a (re)assignment is marked as possibly stored already. Messages
 * that are no events this release can read are kept in the dead letters before the batch is
 * stored, so before its offsets are committed.
 */
export class KafkaEventConsumer implements EventConsumer {
  private readonly consumer: Consumer;
  /** Partitions (topic/partition) handed a batch since the last group join: their later batches are new to the store. */
  private readonly seen = new Set<string>();

  private readonly groupId: string;

  constructor(
    kafka: Kafka,
    private readonly config: GatewayConfig["kafka"],
    sink: GatewayConfig["analytics"]["sink"],
    private readonly deadLetters: DeadLetters,
  ) {
    this.groupId = `${config.topicPrefix}analytics`;
    this.consumer = kafka.consumer({
      groupId: this.groupId,
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
    const kindOf = new Map(eventKinds.map((kind) => [eventsTopic(this.config, kind), kind]));
    await this.consumer.subscribe({ topics: [...kindOf.keys()], fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      // Every partition of a fetch handed over at once: the sink stores them with one insert per table.
      partitionsConsumedConcurrently: this.config.eventPartitions * eventKinds.length,
      eachBatch: async (payload) => {
        const { batch } = payload;
        const first = batch.messages[0];
        const last = batch.messages.at(-1);
        if (!first || !last) return;
        const undecodable: Undecodable[] = [];
        const events = decodeEvents(
          kindOf.get(batch.topic),
          batch.messages,
          (message) => ({
            offset: Number(message.offset),
            value: message.value,
            version: message.headers?.[schemaVersionHeader]?.toString(),
          }),
          (message, error) =>
            undecodable.push({ topic: batch.topic, partition: batch.partition, message, error }),
        );
        // Kept before the batch is stored, so before its offsets are committed.
        const stillOwned = batchStillOwned(payload);
        if (!(await this.deadLetters.keepWhileOwned(this.groupId, undecodable, stillOwned)))
          throw new Error("the batch is no longer this consumer's to store");
        const partitionKey = `${batch.topic}/${batch.partition}`;
        const mayBeStored = !this.seen.has(partitionKey);
        await handle({
          ...events,
          source: {
            topic: batch.topic,
            partition: batch.partition,
            firstOffset: Number(first.offset),
            lastOffset: Number(last.offset),
          },
          mayBeStored,
          stillOwned,
        });
        this.seen.add(partitionKey);
        await acknowledgeBatch(payload);
      },
    });
  }

  async close(): Promise<void> {
    await this.consumer.disconnect();
  }
}
