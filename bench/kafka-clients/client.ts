/** The Kafka clients compared, by the name the report gives them. */
export const clientNames = ["kafkajs", "@platformatic/kafka"] as const;
export type ClientName = (typeof clientNames)[number];

export interface ReceivedMessage {
  topic: string;
  partition: number;
  offset: bigint;
  /** The partition's leader epoch as the client saw it (-1 when the client does not track it). */
  leaderEpoch: number;
  key: Buffer;
  value: Buffer;
}

/** A consumer group's position in one partition: the next offset it will read. */
export interface CommitPoint {
  topic: string;
  partition: number;
  next: bigint;
  leaderEpoch: number;
}

export interface BenchProducer {
  /** Resolves once Kafka took the message (acks from every in-sync replica). */
  send(topic: string, key: Buffer, value: Buffer): Promise<void>;
  close(): Promise<void>;
}

export interface BenchConsumer {
  commit(points: CommitPoint[]): Promise<void>;
  close(): Promise<void>;
}

export interface ConsumeOptions {
  groupId: string;
  topics: string[];
  onMessage(message: ReceivedMessage): void;
  /** Called on every (re)join of the group with how many partitions this member now owns. */
  onAssigned(partitions: number): void;
}

/** One client library behind the few operations the request path needs, configured alike. */
export interface BenchClient {
  producer(): Promise<BenchProducer>;
  consume(options: ConsumeOptions): Promise<BenchConsumer>;
  /** Requests this process sent to the broker so far, by kind (produce, fetch, commit, heartbeat, other). */
  requestCounts(): RequestCounts;
}

export type RequestCounts = Record<string, number>;

/** The settings both clients share, from the gateway's own (bus/kafka/requests.ts, config defaults). */
export const groupSettings = {
  sessionTimeoutMs: 10_000,
  heartbeatIntervalMs: 1_000,
  /** A fetch returns as soon as one message is there; this only bounds an idle poll. */
  maxWaitMs: 100,
};

/** Tallies broker requests by kind; a kind is the lowercased API name, with the rare ones as "other". */
export class RequestCounter {
  private readonly counts: RequestCounts = {};

  add(apiName: string): void {
    const kind = trackedKinds.has(apiName) ? apiName : "other";
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
  }

  snapshot(): RequestCounts {
    return { ...this.counts };
  }
}

const trackedKinds = new Set(["produce", "fetch", "commit", "heartbeat", "metadata"]);
