import type { Migration } from "./migration.ts";

/**
 * One row per request as its caller saw it (the provider calls are in `attempts`): the
 * ingress's `received` row, replaced by its `finished` row (ReplacingMergeTree on the stage, so
 * a request still in flight — or lost with its ingress — shows as received). Ordered by hour
 * and key, then id: time ranges and a key's traffic, the common filters, read few granules.
 */
export const requests: Migration = {
  id: 6,
  name: "requests",
  statements: [
    `CREATE TABLE IF NOT EXISTS requests (
      request_id UUID,
      stage Enum8('received' = 1, 'finished' = 2),
      stage_order UInt8 MATERIALIZED CAST(stage, 'UInt8'),
      ingress_id LowCardinality(String),
      received_at DateTime64(3, 'UTC'),
      first_token_at Nullable(DateTime64(3, 'UTC')),
      finished_at Nullable(DateTime64(3, 'UTC')),
      priority LowCardinality(String),
      inbound_api LowCardinality(String),
      stream Bool,
      key_id LowCardinality(String),
      team LowCardinality(String),
      end_user String,
      tags Map(LowCardinality(String), String),
      model_requested LowCardinality(String),
      provider LowCardinality(String),
      provider_model LowCardinality(String),
      cache LowCardinality(String),
      outcome LowCardinality(String),
      status UInt16,
      error_code LowCardinality(String),
      input_tokens UInt32,
      output_tokens UInt32,
      cached_input_tokens UInt32,
      cache_write_tokens UInt32,
      reasoning_tokens UInt32,
      cost Decimal(18, 9),
      priced Bool,
      cost_saved Decimal(18, 9),
      request_bytes UInt32,
      duration_ms Nullable(Float64) MATERIALIZED dateDiff('millisecond', received_at, finished_at),
      ttft_ms Nullable(Float64) MATERIALIZED dateDiff('millisecond', received_at, first_token_at),
      source_partition UInt32,
      source_offset UInt64,
      INDEX source_offset_minmax source_offset TYPE minmax GRANULARITY 1
    ) ENGINE = ReplacingMergeTree(stage_order)
    PARTITION BY toYYYYMM(received_at)
    ORDER BY (toStartOfHour(received_at), key_id, request_id)
    SETTINGS non_replicated_deduplication_window = 10000`,
    // Per-minute rollups of finished requests, for dashboards that must not scan every row:
    // sums, and t-digest quantile states of latency and time to first token that merge across
    // minutes, keys or models (quantilesTDigestMerge).
    `CREATE TABLE IF NOT EXISTS requests_per_minute (
      minute DateTime('UTC'),
      key_id LowCardinality(String),
      team LowCardinality(String),
      model_requested LowCardinality(String),
      provider LowCardinality(String),
      provider_model LowCardinality(String),
      priority LowCardinality(String),
      cache LowCardinality(String),
      outcome LowCardinality(String),
      requests SimpleAggregateFunction(sum, UInt64),
      errors SimpleAggregateFunction(sum, UInt64),
      input_tokens SimpleAggregateFunction(sum, UInt64),
      output_tokens SimpleAggregateFunction(sum, UInt64),
      cached_input_tokens SimpleAggregateFunction(sum, UInt64),
      cache_write_tokens SimpleAggregateFunction(sum, UInt64),
      reasoning_tokens SimpleAggregateFunction(sum, UInt64),
      cost SimpleAggregateFunction(sum, Decimal(38, 9)),
      cost_saved SimpleAggregateFunction(sum, Decimal(38, 9)),
      duration_ms AggregateFunction(quantilesTDigest(0.5, 0.95, 0.99), Nullable(Float64)),
      ttft_ms AggregateFunction(quantilesTDigest(0.5, 0.95, 0.99), Nullable(Float64))
    ) ENGINE = AggregatingMergeTree
    PARTITION BY toYYYYMM(minute)
    ORDER BY (minute, key_id, team, model_requested, provider, provider_model, priority, cache, outcome)`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS requests_per_minute_mv TO requests_per_minute AS
    SELECT
      toStartOfMinute(received_at) AS minute,
      key_id, team, model_requested, provider, provider_model, priority, cache, outcome,
      count() AS requests,
      countIf(outcome != 'completed') AS errors,
      sum(input_tokens) AS input_tokens,
      sum(output_tokens) AS output_tokens,
      sum(cached_input_tokens) AS cached_input_tokens,
      sum(cache_write_tokens) AS cache_write_tokens,
      sum(reasoning_tokens) AS reasoning_tokens,
      toDecimal128(sum(cost), 9) AS cost,
      toDecimal128(sum(cost_saved), 9) AS cost_saved,
      quantilesTDigestState(0.5, 0.95, 0.99)(duration_ms) AS duration_ms,
      quantilesTDigestState(0.5, 0.95, 0.99)(ttft_ms) AS ttft_ms
    FROM requests
    WHERE stage = 'finished'
    GROUP BY minute, key_id, team, model_requested, provider, provider_model, priority, cache, outcome`,
  ],
};
