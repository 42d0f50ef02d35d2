import type { EachBatchPayload } from "kafkajs";

/**
 * Marks a fetched batch of a partition as handled: commits the offset after its last message, so
 * a consumer that takes the partition over starts after it, and heartbeats. Called only once the
 * batch's messages are stored.
 */
export async function acknowledgeBatch({
  batch,
  resolveOffset,
  commitOffsetsIfNecessary,
  heartbeat,
}: EachBatchPayload): Promise<void> {
  const last = batch.messages.at(-1);
  if (!last) return;
  resolveOffset(last.offset);
  await commitOffsetsIfNecessary({
    topics: [
      {
        topic: batch.topic,
        partitions: [{ partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() }],
      },
    ],
  });
  await heartbeat();
}

/**
 * Whether a fetched batch is still this consumer's to handle, keeping its claim alive meanwhile (a
 * heartbeat): false once the consumer stops or a rebalance may have given the partition to another.
 */
export function batchStillOwned({ heartbeat, isRunning, isStale }: EachBatchPayload): () => Promise<boolean> {
  return async () => {
    if (!isRunning() || isStale()) return false;
    try {
      await heartbeat();
      return true;
    } catch {
      return false; // a rebalance: the partition may be another consumer's now
    }
  };
}
