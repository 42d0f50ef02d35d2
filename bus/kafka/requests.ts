import type { Consumer, Kafka } from "kafkajs";
import type { GatewayConfig } from "../../config/schema.ts";
import type { Logger } from "../../runtime/logger.ts";
import { requestEnvelopeCodec } from "../../schemas/index.ts";
import { type Priority, priorities, type RequestEnvelopeInput } from "../../schemas/request-envelope.ts";
import type { DeliverySink, RequestConsumer, RequestPublisher } from "../messaging.ts";
import { type AvroMessage, fromKafkaMessage, toKafkaMessage } from "./avro-message.ts";
import type { CoalescingProducer } from "./coalescing-producer.ts";
import type { DeadLetters } from "./dead-letters.ts";
import { isGroupChange } from "./kafkajs-log.ts";
import { RequestIntake } from "./request-intake.ts";
import { requestTopic, workerGroup } from "./topics.ts";

/** The ingress's side, on either client: requests keyed by id, so that they spread evenly over partitions. */
export function createKafkaRequestPublisher(
  producer: CoalescingProducer<AvroMessage>,
  config: GatewayConfig["kafka"],
): RequestPublisher {
  return {
    publish(envelope: RequestEnvelopeInput) {
      return producer.send(
        requestTopic(config, envelope.priority),
        toKafkaMessage(requestEnvelopeCodec, envelope.id, envelope),
      );
    },
  };
}

/**
 * A worker's Kafka consumer over the three priority topics, on kafkajs. The consume loop only
 * decodes and hands each request to the worker's scheduler (RequestIntake), so it returns at once
 * and keeps heartbeating however long provider calls take (no rebalance storms). A priority whose
 * local queue is full is paused, leaving its requests in Kafka for other workers.
 */
export class KafkaRequestConsumer implements RequestConsumer {
  private readonly consumer: Consumer;
  private readonly intake: RequestIntake;

  constructor(
    kafka: Kafka,
    private readonly config: GatewayConfig["kafka"],
    deadLetters: DeadLetters,
    log: Logger,
  ) {
    this.consumer = kafka.consumer({
      groupId: workerGroup(config),
      sessionTimeout: config.sessionTimeoutMs,
      heartbeatInterval: Math.max(500, Math.floor(config.sessionTimeoutMs / 10)),
      // A fetch returns as soon as one message is there; this only bounds an idle poll.
      maxWaitTimeInMs: 100,
      allowAutoTopicCreation: false,
    });
    this.intake = new RequestIntake(
      config,
      deadLetters,
      (offsets) =>
        this.consumer.commitOffsets(
          offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset: offset.toString() })),
        ),
      isGroupChange,
      log,
    );
    this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) =>
      this.intake.assign(
        Object.entries(payload.memberAssignment as Record<string, number[]>).map(([topic, partitions]) => ({
          topic,
          partitions,
        })),
      ),
    );
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
        const hasRoom = this.intake.take(sink, {
          topic,
          partition,
          offset: BigInt(message.offset),
          decode: () => fromKafkaMessage(requestEnvelopeCodec, message),
          original: () => message,
        });
        if (!hasRoom) this.consumer.pause([{ topic }]);
      },
    });
    // Ready means consuming: wait for the first partition assignment.
    await joined;
    this.intake.startCommitting();
  }

  resume(priority: Priority): void {
    this.consumer.resume([{ topic: requestTopic(this.config, priority) }]);
  }

  async stop(): Promise<void> {
    this.consumer.pause(priorities.map((priority) => ({ topic: requestTopic(this.config, priority) })));
  }

  async close(): Promise<void> {
    await this.intake.close();
    await this.consumer.disconnect();
  }
}
