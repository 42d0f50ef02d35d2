import type { Migration } from "./migration.ts";

/**
 * One row per attempt at a request, as a worker finished it. ReplacingMergeTree on
 * (request_id, attempt): an event stored twice (a retried insert, a replayed topic) collapses
 * into one row, and `FINAL` queries see it once.
 */
export const attempts: Migration = {
  id: 1,
  name: "attempts",
  statements: [
    `CREATE TABLE IF NOT EXISTS attempts (
      request_id UUID,
      attempt String,
      worker_id LowCardinality(String),
      received_at DateTime64(3, 'UTC'),
      started_at DateTime64(3, 'UTC'),
      first_token_at Nullable(DateTime64(3, 'UTC')),
      finished_at DateTime64(3, 'UTC'),
      priority LowCardinality(String),
      inbound_api LowCardinality(String),
      stream Bool,
      key_id LowCardinality(String),
      end_user String,
      tags Map(LowCardinality(String), String),
      model_requested LowCardinality(String),
      provider LowCardinality(String),
      provider_model LowCardinality(String),
      outcome LowCardinality(String),
      error_code LowCardinality(String),
      status UInt16,
      input_tokens UInt32,
      output_tokens UInt32,
      cached_input_tokens UInt32,
      cache_write_tokens UInt32,
      reasoning_tokens UInt32,
      usage_estimated Bool
    ) ENGINE = ReplacingMergeTree
    PARTITION BY toYYYYMM(finished_at)
    ORDER BY (request_id, attempt)`,
  ],
};
