import type { Migration } from "./migration.ts";

/**
 * The audit log: who did what to which key, team or request, when, from where, and how it
 * ended. Ordered by time first: the audit trail is read newest first, within a time range; a
 * bloom filter finds one actor's or one target's entries. Deduplicated like the event tables (a
 * re-delivered batch is found by its source offsets and its insert token).
 */
export const auditLog: Migration = {
  id: 11,
  name: "audit-log",
  statements: [
    `CREATE TABLE IF NOT EXISTS audit_log (
      at DateTime64(3, 'UTC'),
      event_id UUID,
      actor_kind LowCardinality(String),
      actor_key_id String,
      actor_team LowCardinality(String),
      action LowCardinality(String),
      target String,
      outcome LowCardinality(String),
      reason String,
      source_ip String,
      user_agent String,
      request_id String,
      details Map(LowCardinality(String), String),
      source_partition UInt32,
      source_offset UInt64,
      INDEX source_offset_minmax source_offset TYPE minmax GRANULARITY 1,
      INDEX actor_bloom actor_key_id TYPE bloom_filter GRANULARITY 4,
      INDEX target_bloom target TYPE bloom_filter GRANULARITY 4
    ) ENGINE = ReplacingMergeTree
    PARTITION BY toYYYYMM(at)
    ORDER BY (at, event_id)
    SETTINGS non_replicated_deduplication_window = 10000`,
  ],
};
