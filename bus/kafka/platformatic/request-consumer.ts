import {
  Consumer,
  findErrorBy,
  type Message,
  type MessagesStream,
  MessagesStreamFallbackModes,
  MessagesStreamModes,
} from "@platformatic/kafka";
import type { GatewayConfig } from "../../../config/schema.ts";
import type { Logger } from "../../../runtime/logger.ts";
import { requestEnvelopeCodec } from "../../../schemas/index.ts";
import { type Priority, priorities } from "../../../schemas/request-envelope.ts";
import type { DeliverySink, RequestConsumer } from "../../messaging.ts";
import { readRecord, schemaVersionHeader } from "../avro-message.ts";
import type { DeadLetters } from "../dead-letters.ts";
import { RequestIntake } from "../request-intake.ts";
import { requestTopic, workerGroup } from "../topics.ts";
import { asKafkajsMessage, type Owned, takeAssignments } from "./assignments.ts";
import { platformaticGroupOptions } from "./client-options.ts";

/** Header names read as strings (to find the schema version); keys and values stay bytes. */
type RequestMessage = Message<Buffer, Buffer, string, Buffer>;
type RequestStream = MessagesStream<Buffer, Buffer, string, Buffer>;

/** A stream that failed (its fetches gave up, say while the broker is away) is opened again after this long. */
const reopenAfterMs = 1000;

/**
 * A worker's request consumer on @platformatic/kafka, with the kafkajs one's semantics
 * (RequestIntake: deliveries, dead letters, ownership, commits of finished work). Its streams pause
 * only as a whole, and the scheduler pauses one priority: so one stream per priority topic, all
 * on one consumer, one member of the group.
 */
export class PlatformaticRequestConsumer implements RequestConsumer {
  private readonly consumer: Consumer<Buffer, Buffer, string, Buffer>;
  private readonly intake: RequestIntake;
  private readonly streams = new Map<Priority, RequestStream>();
  /** The partitions of the current generation. */
  private owned: Owned = new Set();
  private closed = false;

  constructor(
    private readonly config: GatewayConfig["kafka"],
    deadLetters: DeadLetters,
    private readonly log: Logger,
  ) {
    this.consumer = new Consumer({
      ...platformaticGroupOptions(config, workerGroup(config)),
      // A fetch returns as soon as one message is there; this only bounds an idle poll.
      maxWaitTime: 100,
    });
    this.intake = new RequestIntake(
      config,
      deadLetters,
      // The leader epoch is unknown (-1): finished work spans many fetches.
      (offsets) =>
        this.consumer.commit({ offsets: offsets.map((offset) => ({ ...offset, leaderEpoch: -1 })) }),
      (error) => findErrorBy(error as Error, "needsRejoin", true) !== null,
      log,
    );
    this.consumer.on("consumer:group:join", ({ assignments }) => {
      this.intake.assign(assignments ?? []);
      this.owned = takeAssignments(this.owned, assignments ?? [], this.streams.values());
    });
    // A failed rejoin; the consumer keeps trying by itself.
    this.consumer.on("error", (error) => this.log.warn({ err: error }, "Kafka consumer error"));
  }

  async start(sink: DeliverySink): Promise<void> {
    // Every topic a stream adds to the consumer is a rejoin of the group, a rebalance for every
    // worker: counted as subscribed before the first stream, the three join once.
    const topics = priorities.map((priority) => requestTopic(this.config, priority));
    this.consumer.topics.trackAll(...topics);
    try {
      // The first stream joins the group: ready means consuming.
      for (const priority of priorities) await this.open(priority, sink);
    } finally {
      this.consumer.topics.untrackAll(...topics);
    }
    this.intake.startCommitting();
  }

  resume(priority: Priority): void {
    this.streams.get(priority)?.resume();
  }

  async stop(): Promise<void> {
    for (const stream of this.streams.values()) stream.pause();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.intake.close();
    await this.consumer.close(true);
  }

  private async open(priority: Priority, sink: DeliverySink): Promise<void> {
    const stream = await this.consumer.consume({
      topics: [requestTopic(this.config, priority)],
      // A new group reads from the start, as on kafkajs: requests published before the first
      // workers joined still count (those past their deadline are skipped by the worker).
      mode: MessagesStreamModes.COMMITTED,
      fallbackMode: MessagesStreamFallbackModes.EARLIEST,
    });
    this.streams.set(priority, stream);
    stream.on("data", (message: RequestMessage) => {
      const hasRoom = this.intake.take(sink, {
        topic: message.topic,
        partition: message.partition,
        offset: message.offset,
        decode: () =>
          readRecord(
            requestEnvelopeCodec,
            message.value,
            message.headers.get(schemaVersionHeader)?.toString(),
          ),
        original: () => asKafkajsMessage(message),
      });
      if (!hasRoom) stream.pause();
    });
    stream.on("error", (error) => this.reopenLater(priority, sink, error));
  }

  private reopenLater(priority: Priority, sink: DeliverySink, error: Error): void {
    if (this.closed) return;
    this.log.error(
      { err: error, priority, retryMs: reopenAfterMs },
      "request stream failed; opening it again",
    );
    setTimeout(() => {
      if (!this.closed)
        this.open(priority, sink).catch((again: Error) => this.reopenLater(priority, sink, again));
    }, reopenAfterMs).unref();
  }
}
