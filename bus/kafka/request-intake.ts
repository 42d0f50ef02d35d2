import type { KafkaMessage } from "kafkajs";
import type { GatewayConfig } from "../../config/schema.ts";
import type { Logger } from "../../runtime/logger.ts";
import type { Priority, RequestEnvelope } from "../../schemas/request-envelope.ts";
import type { DeliverySink } from "../messaging.ts";
import type { DeadLetters } from "./dead-letters.ts";
import { PartitionOffsets } from "./offset-tracker.ts";
import { priorityOfTopic, workerGroup } from "./topics.ts";

const commitIntervalMs = 200;

/** Offsets to commit: the next offset to read of each partition. */
export type CommitOffsets = (
  offsets: Array<{ topic: string; partition: number; offset: bigint }>,
) => Promise<void>;

/** A request read off Kafka, whichever client read it. */
export interface ReadRequest {
  topic: string;
  partition: number;
  offset: bigint;
  /** The envelope; throws a DecodeError when this release cannot read it. */
  decode(): RequestEnvelope;
  /** The message as it was, for the dead letters (only asked for when `decode` threw). */
  original(): KafkaMessage;
}

/**
 * What a worker's request consumer does whatever its Kafka client: hands each request to the
 * scheduler once (offsets already running or finished are skipped when Kafka hands them out
 * again), keeps what cannot be read in the dead letters, knows which partitions are its own in
 * this generation of the group, and every 200 ms commits the work that finished, at the lowest
 * unfinished offset of each partition. The clients only read messages and pause topics.
 */
export class RequestIntake {
  private readonly partitions = new Map<string, PartitionOffsets>();
  /** Partitions assigned in the current generation; work of others is no longer ours. */
  private assigned = new Set<string>();
  private commitTimer: NodeJS.Timeout | undefined;
  private committing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly config: GatewayConfig["kafka"],
    private readonly deadLetters: DeadLetters,
    private readonly commit: CommitOffsets,
    /** True for a commit error that only says the group is changing hands (a rebalance). */
    private readonly isGroupChange: (error: unknown) => boolean,
    private readonly log: Logger,
  ) {}

  /** The group gave this consumer these partitions: work on any other is no longer ours to finish. */
  assign(assignment: Array<{ topic: string; partitions: number[] }>): void {
    this.assigned = new Set(
      assignment.flatMap(({ topic, partitions }) => partitions.map((partition) => `${topic}:${partition}`)),
    );
    for (const key of this.partitions.keys()) if (!this.assigned.has(key)) this.partitions.delete(key);
    this.log.info(
      { assignment: Object.fromEntries(assignment.map(({ topic, partitions }) => [topic, partitions])) },
      "worker joined the consumer group",
    );
  }

  /**
   * Hands one request to the sink; returns false when its priority has no more room (the client
   * pauses the topic). A message of a partition this consumer no longer owns is dropped: its new
   * owner reads it.
   */
  take(sink: DeliverySink, message: ReadRequest): boolean {
    const { topic, partition, offset } = message;
    const key = `${topic}:${partition}`;
    if (!this.assigned.has(key)) return true;
    let offsets = this.partitions.get(key);
    if (!offsets) {
      offsets = new PartitionOffsets();
      this.partitions.set(key, offsets);
    }
    if (!offsets.receive(offset)) return true;
    const tracked = offsets;
    const stillOwned = () => this.assigned.has(key) && this.partitions.get(key) === tracked;
    let envelope: RequestEnvelope;
    try {
      envelope = message.decode();
    } catch (error) {
      // Not a request this release can read. It must not block the partition: it is done once
      // the dead letters hold it, while the loop goes on; until then its offset stays uncommitted.
      void this.deadLetters
        .keepWhileOwned(
          workerGroup(this.config),
          [{ topic, partition, message: message.original(), error }],
          () => !this.closed && stillOwned(),
        )
        .then((kept) => kept && tracked.finish(offset));
      return true;
    }
    return sink.offer(priorityOfTopic(this.config, topic) as Priority, {
      envelope,
      stillOwned,
      settle: () => tracked.finish(offset),
    });
  }

  startCommitting(): void {
    this.commitTimer = setInterval(() => {
      this.committing = this.committing.then(() => this.commitFinished());
    }, commitIntervalMs);
  }

  /** Commits what finished for the last time: the client disconnects next. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.commitTimer);
    await this.committing;
    await this.commitFinished();
  }

  private async commitFinished(): Promise<void> {
    const commits = [...this.partitions.entries()].flatMap(([key, offsets]) => {
      const point = offsets.commitPoint();
      if (point === undefined) return [];
      const separator = key.lastIndexOf(":");
      return [
        { offsets, point, topic: key.slice(0, separator), partition: Number(key.slice(separator + 1)) },
      ];
    });
    if (commits.length === 0) return;
    try {
      await this.commit(commits.map(({ topic, partition, point }) => ({ topic, partition, offset: point })));
      for (const { offsets, point } of commits) offsets.committedAt(point);
    } catch (error) {
      // Routine in a rebalance: the next generation commits what is still ours.
      if (this.isGroupChange(error))
        this.log.info({ err: error }, "offset commit deferred: the group is rebalancing");
      else this.log.warn({ err: error }, "offset commit failed");
    }
  }
}
