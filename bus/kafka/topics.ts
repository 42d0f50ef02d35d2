import type { Admin, ITopicConfig } from "kafkajs";
import type { GatewayConfig } from "../../config/schema.ts";
import { type Priority, priorities } from "../../schemas/request-envelope.ts";

export function requestTopic(config: GatewayConfig["kafka"], priority: Priority): string {
  return `${config.topicPrefix}requests.${priority}`;
}

/** The consumer group every worker joins: each request goes to one of them. */
export function workerGroup(config: GatewayConfig["kafka"]): string {
  return `${config.topicPrefix}workers`;
}

export const eventKinds = ["attempt", "request", "audit"] as const;
export type EventKind = (typeof eventKinds)[number];

/** The analytics events of each kind, read by the sink. */
export function eventsTopic(config: GatewayConfig["kafka"], kind: EventKind): string {
  return `${config.topicPrefix}${kind}-events`;
}

/** Finished lines of batch jobs, read by the batch coordinators. */
export function batchResultsTopic(config: GatewayConfig["kafka"]): string {
  return `${config.topicPrefix}batch-results`;
}

/** The log of virtual keys and teams, read whole by every process (governance/keys/kafka-store.ts). */
export function governanceTopic(config: GatewayConfig["kafka"]): string {
  return `${config.topicPrefix}governance`;
}

/**
 * Messages a consumer of this gateway could not decode, kept whole with where they came from and
 * why (bus/kafka/dead-letters.ts), until replayed or expired.
 */
export function deadLetterTopic(config: GatewayConfig["kafka"]): string {
  return `${config.topicPrefix}dead-letters`;
}

/**
 * How long dead letters are kept: long enough to notice them, ship a release that reads them and
 * replay them. Set at creation; change it later with kafka-configs (`retention.ms`).
 */
export const deadLetterRetentionMs = 30 * 24 * 60 * 60_000;

function isEventsTopic(config: GatewayConfig["kafka"], topic: string): boolean {
  return eventKinds.some((kind) => topic === eventsTopic(config, kind));
}

export function priorityOfTopic(config: GatewayConfig["kafka"], topic: string): Priority | undefined {
  return priorities.find((priority) => requestTopic(config, priority) === topic);
}

/** Every topic of the gateway. */
export function gatewayTopics(config: GatewayConfig["kafka"]): string[] {
  return [
    ...priorities.map((priority) => requestTopic(config, priority)),
    ...eventKinds.map((kind) => eventsTopic(config, kind)),
    batchResultsTopic(config),
    governanceTopic(config),
    deadLetterTopic(config),
  ];
}

function topicSettings(config: GatewayConfig["kafka"], topic: string): ITopicConfig {
  const { replicationFactor } = config;
  // The governance log has one partition, so one order of writes, and is compacted: it keeps
  // each key's and team's last record for good (and a deleted team's tombstone for a while).
  if (topic === governanceTopic(config)) {
    return {
      topic,
      numPartitions: 1,
      replicationFactor,
      configEntries: [{ name: "cleanup.policy", value: "compact" }],
    };
  }
  // One partition: dead letters are rare, and their offsets alone name them (ai-gateway dead-letters).
  if (topic === deadLetterTopic(config)) {
    return {
      topic,
      numPartitions: 1,
      replicationFactor,
      configEntries: [
        { name: "retention.ms", value: String(deadLetterRetentionMs) },
        // Room for a message as large as Kafka takes by default (1 MiB), plus the dead-letter headers.
        { name: "max.message.bytes", value: String(2 * 1024 * 1024) },
      ],
    };
  }
  const numPartitions = isEventsTopic(config, topic) ? config.eventPartitions : config.partitions;
  return { topic, numPartitions, replicationFactor };
}

/**
 * Creates the topics where missing, all of the gateway's unless told which (idempotent; every
 * process may call it at start, several at once: a topic another one created meanwhile is no error).
 */
export async function ensureTopics(
  admin: Admin,
  config: GatewayConfig["kafka"],
  topics = gatewayTopics(config),
): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((topic) => !existing.has(topic));
  if (missing.length === 0) return;
  try {
    // Resolves false when every one was created by someone else first.
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => topicSettings(config, topic)),
    });
  } catch (error) {
    // kafkajs says only "Topic creation errors": name each topic and what the broker said.
    const each = (error as { errors?: Array<{ topic?: string; message: string }> }).errors;
    if (!Array.isArray(each)) throw error;
    throw new Error(
      `cannot create topics: ${each.map(({ topic, message }) => `${topic ?? "?"}: ${message}`).join("; ")}`,
      { cause: error },
    );
  }
}
