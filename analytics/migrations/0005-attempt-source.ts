import type { Migration } from "./migration.ts";

/**
 * Exactly-once landing (analytics/sink.ts): each row says which partition and offset of the
 * events topic it came from, so a sink taking over a partition can tell what an earlier one
 * stored before dying; and inserts carry deduplication tokens, which a non-replicated MergeTree
 * only honours with a deduplication window (Replicated tables have one by default).
 */
export const attemptSource: Migration = {
  id: 5,
  name: "attempt-source",
  statements: [
    `ALTER TABLE attempts
      ADD COLUMN IF NOT EXISTS source_partition UInt32 DEFAULT 0,
      ADD COLUMN IF NOT EXISTS source_offset UInt64 DEFAULT 0`,
    `ALTER TABLE attempts ADD INDEX IF NOT EXISTS source_offset_minmax source_offset TYPE minmax GRANULARITY 1`,
    `ALTER TABLE attempts MODIFY SETTING non_replicated_deduplication_window = 10000`,
  ],
};
