import type { KafkaMessage } from "kafkajs";

/** The partitions of one generation of a group, as `topic:partition`. */
export type Owned = Set<string>;

export const partitionKey = (topic: string, partition: number) => `${topic}:${partition}`;

/**
 * The partitions a group join gave this member, once each stream forgot where it read those it
 * gained. A stream (2.12.1) remembers where it read each partition it ever had, and on getting one
 * back with no committed offset it resumes there, not at the earliest: what another member read
 * meanwhile and never committed would never come again (a test gives partitions to a newcomer and
 * back). A partition this member did not own before is read from its committed offset or, without
 * one, from the start. (No fetch of a generation ago is still in flight: a fetch waits less than a
 * rebalance takes.)
 */
export function takeAssignments(
  before: Owned,
  assignments: Array<{ topic: string; partitions: number[] }>,
  streams: Iterable<{ offsetsToFetch: Map<string, bigint> }>,
): Owned {
  const owned: Owned = new Set(
    assignments.flatMap(({ topic, partitions }) =>
      partitions.map((partition) => partitionKey(topic, partition)),
    ),
  );
  for (const stream of streams)
    for (const key of owned) if (!before.has(key)) stream.offsetsToFetch.delete(key);
  return owned;
}

/** A message as read, bytes and header names as strings: the shape every consumer of ours reads. */
export interface ReadMessage {
  key?: Buffer | null;
  value?: Buffer | null;
  headers: Map<string, Buffer>;
  offset: bigint;
  timestamp: bigint;
}

/** The message as the dead letters keep it (they write with kafkajs): its bytes and headers as read. */
export function asKafkajsMessage(message: ReadMessage): KafkaMessage {
  return {
    key: message.key ?? null,
    value: message.value ?? null,
    headers: Object.fromEntries(message.headers),
    offset: message.offset.toString(),
    timestamp: message.timestamp.toString(),
    attributes: 0,
  };
}
