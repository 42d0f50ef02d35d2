import { type IHeaders, type Kafka, type KafkaMessage, Partitioners, type Producer } from "kafkajs";
import { Counter, type Registry } from "prom-client";
import type { Logger } from "../../runtime/logger.ts";
import { DecodeError, type DecodeFailure } from "./avro-message.ts";

/**
 * A dead letter is the message a consumer could not decode, as it was — key, value bytes, headers —
 * plus these headers saying where it was read, by whom, when and why. All are named
 * `dead-letter-…`, so that a replay can drop them and put back exactly what was first written.
 */
export const deadLetterHeader = {
  topic: "dead-letter-topic",
  partition: "dead-letter-partition",
  offset: "dead-letter-offset",
  /** The error, in words. */
  reason: "dead-letter-reason",
  /** The reason as one of a few classes (a DecodeFailure): what the metric counts by. */
  class: "dead-letter-class",
  /** The consumer group that read it: which part of the gateway could not. */
  consumer: "dead-letter-consumer",
  /** When it was dead-lettered, ISO 8601. */
  time: "dead-letter-time",
  /** Only on a replay marker (a record without key or value): the id of the letter replayed. */
  replayed: "dead-letter-replayed",
} as const;

export function isDeadLetterHeader(name: string): boolean {
  return name.startsWith("dead-letter-");
}

/** How `ai-gateway dead-letters` names a letter: its offset (its partition too, beyond the first). */
export function letterId(partition: number, offset: string | bigint): string {
  return partition === 0 ? String(offset) : `${partition}:${offset}`;
}

/** A message a consumer could not decode, where it read it, and the error. */
export interface Undecodable {
  topic: string;
  partition: number;
  message: KafkaMessage;
  error: unknown;
}

/** A reason is one error message; a longer one is cut (it is a header of every letter). */
const maxReasonLength = 1_000;
const firstRetryMs = 500;
/** Well within a session timeout: a batch consumer heartbeats between tries. */
const maxRetryMs = 5_000;

/**
 * Where a consumer puts what it cannot decode: the dead-letter topic. A consumer commits an
 * undecodable message's offset only once `keep` resolved, i.e. once every in-sync replica has the
 * letter: a process that dies in between leaves the message to be read (and dead-lettered) again,
 * so a letter may come twice but is never lost.
 *
 * Letters have a producer of their own, connected at the first one (most processes never write
 * any): kafkajs refreshes a producer's metadata for every topic it ever wrote to at once, so with a
 * shared producer a dead-letter topic gone missing would stop requests and events too.
 */
export class DeadLetters {
  private readonly counted: Counter<"topic" | "reason">;
  private producer: Promise<Producer> | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
    metrics: Registry,
    private readonly log: Logger,
  ) {
    this.counted = new Counter({
      name: "gateway_kafka_dead_letters_total",
      help: "Kafka messages this process could not decode and kept in the dead-letter topic, by source topic and class of reason.",
      labelNames: ["topic", "reason"],
      registers: [metrics],
    });
  }

  /**
   * `keep`, retried with backoff for as long as `stillOwned` says the messages are this consumer's
   * to handle, whatever Kafka answers (a letter too large for the topic, the topic gone): false once
   * they no longer are. Their offsets must then not be committed: the next owner of their partition
   * reads them again.
   */
  async keepWhileOwned(
    consumer: string,
    undecodable: Undecodable[],
    stillOwned: () => boolean | Promise<boolean>,
  ): Promise<boolean> {
    for (let retryMs = firstRetryMs; ; retryMs = Math.min(retryMs * 2, maxRetryMs)) {
      try {
        await this.keep(consumer, undecodable);
        return true;
      } catch (error) {
        this.log.error(
          {
            err: error,
            messages: undecodable.map(
              ({ topic, partition, message }) => `${topic}/${partition}@${message.offset}`,
            ),
            retryMs,
          },
          "could not keep undecodable messages in the dead letters; their offsets stay uncommitted",
        );
        // Unreferenced: a process shutting down does not wait for it (the messages stay uncommitted).
        await new Promise((resolve) => setTimeout(resolve, retryMs).unref());
        if (!(await stillOwned())) return false;
      }
    }
  }

  /** Keeps the messages `consumer` (its group id) could not decode; throws if Kafka did not take them. */
  private async keep(consumer: string, undecodable: Undecodable[]): Promise<void> {
    if (undecodable.length === 0) return;
    const time = new Date().toISOString();
    const letters = undecodable.map(({ topic, partition, message, error }) => ({
      topic,
      partition,
      offset: message.offset,
      failure: failureOf(error),
      reason: ((error as Error)?.message ?? String(error)).slice(0, maxReasonLength),
      message,
    }));
    const sent = await (await this.connected()).send({
      topic: this.topic,
      acks: -1,
      messages: letters.map(({ topic, partition, offset, failure, reason, message }) => ({
        key: message.key,
        value: message.value,
        headers: {
          ...message.headers,
          [deadLetterHeader.topic]: topic,
          [deadLetterHeader.partition]: String(partition),
          [deadLetterHeader.offset]: offset,
          [deadLetterHeader.reason]: reason,
          [deadLetterHeader.class]: failure,
          [deadLetterHeader.consumer]: consumer,
          [deadLetterHeader.time]: time,
        } satisfies IHeaders,
      })),
    });
    // Their offsets, when they all went to one partition (the topic has one unless an operator chose more).
    const [only, ...others] = sent;
    for (const [index, { topic, partition, offset, failure, reason }] of letters.entries()) {
      this.counted.inc({ topic, reason: failure });
      this.log.error(
        {
          topic,
          partition,
          offset,
          reason,
          consumer,
          deadLetter:
            only?.baseOffset !== undefined && others.length === 0
              ? letterId(only.partition, BigInt(only.baseOffset) + BigInt(index))
              : undefined,
        },
        "undecodable message kept in the dead letters",
      );
    }
  }

  async close(): Promise<void> {
    const producer = await this.producer?.catch(() => undefined);
    await producer?.disconnect();
  }

  private connected(): Promise<Producer> {
    if (!this.producer) {
      const producer = this.kafka.producer({
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      this.producer = producer.connect().then(
        () => producer,
        (error: Error) => {
          this.producer = undefined; // the next letter tries again
          throw error;
        },
      );
    }
    return this.producer;
  }
}

function failureOf(error: unknown): DecodeFailure {
  return error instanceof DecodeError ? error.failure : "undecodable";
}
