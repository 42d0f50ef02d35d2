import type { Consumer, Kafka } from "kafkajs";
import type { GatewayConfig } from "../../config/schema.ts";
import type { Logger } from "../../runtime/logger.ts";
import { requestEnvelopeCodec } from "../../schemas/index.ts";
import {
  type Priority,
  priorities,
  type RequestEnvelope,
  type RequestEnvelopeInput,
} from "../../schemas/request-envelope.ts";
import type { DeliverySink, RequestConsumer, RequestPublisher } from "../messaging.ts";
import { fromKafkaMessage, toKafkaMessage } from "./avro-message.ts";
import type { CoalescingProducer } from "./coalescing-producer.ts";
import type { DeadLetters } from "./dead-letters.ts";
import { isGroupChange } from "./kafkajs-log.ts";
import { PartitionOffsets } from "./offset-tracker.ts";
import { priorityOfTopic, requestTopic } from "./topics.ts";

export function createKafkaRequestPublisher(
  producer: CoalescingProducer,
  config: GatewayConfig["kafka"],
): RequestPublisher {
  return {
    publish(envelope: RequestEnvelopeInput) {
      // Keyed by request id: requests spread evenly over partitions.
      return producer.send(
        requestTopic(config, envelope.priority),
        toKafkaMessage(requestEnvelopeCodec, envelope.id, envelope),
      );
    },
  };
}

const commitIntervalMs = 200;

/** The consumer group every worker joins: each request goes to one of them. */
export function workerGroup(config: GatewayConfig["kafka"]): string {
  return `${config.topicPrefix}workers`;
}

/**
 * A worker's Kafka consumer over the three priority topics. The consume loop only decodes and
 * hands each request to the worker's scheduler, so it returns at once and keeps heartbeating
 * however long provider calls take (no rebalance storms). A priority whose local queue is full is
 * paused, leaving its requests in Kafka for other workers. Offsets are committed only for work
 * that finished, at the lowest unfinished offset of each partition. A message that is no request
 * this release can read finishes once it is kept in the dead letters.
 */
export class KafkaRequestConsumer implements RequestConsumer {
  private readonly consumer: Consumer;
  private readonly partitions = new Map<string, PartitionOffsets>();
  /** Partitions assigned in the current generation; work of others is no longer ours. */
  private assigned = new Set<string>();
  private commitTimer: NodeJS.Timeout | undefined;
  private committing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    kafka: Kafka,
    private readonly config: GatewayConfig["kafka"],
    private readonly deadLetters: DeadLetters,
    private readonly log: Logger,
  ) {
    this.consumer = kafka.consumer({
      groupId: workerGroup(config),
      sessionTimeout: config.sessionTimeoutMs,
      heartbeatInterval: Math.max(500, Math.floor(config.sessionTimeoutMs / 10)),
      // A fetch returns as soon as one message is there; this only bounds an idle poll.
      maxWaitTimeInMs: 100,
      allowAutoTopicCreation: false,
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => {
      const assignment = payload.memberAssignment as Record<string, number[]>;
      this.assigned = new Set(
        Object.entries(assignment).flatMap(([topic, partitions]) =>
          partitions.map((partition) => `${topic}:${partition}`),
        ),
      );
      for (const key of this.partitions.keys()) if (!this.assigned.has(key)) this.partitions.delete(key);
      this.log.info({ assignment }, "worker joined the consumer group");
    });
  }

  async start(sink: DeliverySink): Promise<void> {
    await this.consumer.connect();
    // A new group reads from the start: requests published before the first workers joined still
    // count (those past their deadline are skipped by the worker).
    await this.consumer.subscribe({
      topics: priorities.map((priority) => requestTopic(this.config, priority)),
      fromBeginning: true,
    });
    const joined = new Promise<void>((resolve) =>
      this.consumer.on(this.consumer.events.GROUP_JOIN, () => resolve()),
    );
    await this.consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message }) => {
        const priority = priorityOfTopic(this.config, topic) as Priority;
        const key = `${topic}:${partition}`;
        let offsets = this.partitions.get(key);
        if (!offsets) {
          offsets = new PartitionOffsets();
          this.partitions.set(key, offsets);
        }
        const offset = BigInt(message.offset);
        if (!offsets.receive(offset)) return;
        const tracked = offsets;
        const stillOwned = () => this.assigned.has(key) && this.partitions.get(key) === tracked;
        let envelope: RequestEnvelope;
        try {
          envelope = fromKafkaMessage(requestEnvelopeCodec, message);
        } catch (error) {
          // Not a request this release can read. It must not block the partition: it is done once
          // the dead letters hold it, while the loop goes on; until then its offset stays uncommitted.
          void this.deadLetters
            .keepWhileOwned(
              workerGroup(this.config),
              [{ topic, partition, message, error }],
              () => !this.closed && stillOwned(),
            )
            .then((kept) => kept && tracked.finish(offset));
          return;
        }
        const hasRoom = sink.offer(priority, {
          envelope,
          stillOwned,
          settle: () => tracked.finish(offset),
        });
        if (!hasRoom) this.consumer.pause([{ topic }]);
      },
    });
    // Ready means consuming: wait for the first partition assignment.
    await joined;
    this.commitTimer = setInterval(() => {
      this.committing = this.committing.then(() => this.commitFinished());
    }, commitIntervalMs);
  }

  resume(priority: Priority): void {
    this.consumer.resume([{ topic: requestTopic(this.config, priority) }]);
  }

  async stop(): Promise<void> {
    this.consumer.pause(priorities.map((priority) => ({ topic: requestTopic(this.config, priority) })));
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.commitTimer);
    await this.committing;
    await this.commitFinished();
    await this.consumer.disconnect();
  }

  private async commitFinished(): Promise<void> {
    const commits = [...this.partitions.entries()].flatMap(([key, offsets]) => {
      const point = offsets.commitPoint();
      if (point === undefined) return [];
      const separator = key.lastIndexOf(":");
      return [
        { key, offsets, point, topic: key.slice(0, separator), partition: Number(key.slice(separator + 1)) },
      ];
    });
    if (commits.length === 0) return;
    try {
      await this.consumer.commitOffsets(
        commits.map(({ topic, partition, point }) => ({ topic, partition, offset: point.toString() })),
      );
      for (const { offsets, point } of commits) offsets.committedAt(point);
    } catch (error) {
      // Routine in a rebalance: the next generation commits what is still ours.
      if (isGroupChange(error))
        this.log.info({ err: error }, "offset commit deferred: the group is rebalancing");
      else this.log.warn({ err: error }, "offset commit failed");
    }
  }
}
