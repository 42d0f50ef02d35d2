import type { Migration } from "./migration.ts";

/**
 * A minmax skipping index on `attempts.received_at`. The table is ordered by request id, and
 * request ids are UUIDv7 — ordered by time — so each granule spans a short stretch of time, and a
 * time range (the dashboard's failovers and deployment health over the last minutes) reads only
 * the granules of that stretch instead of the whole table.
 */
export const attemptTimeIndex: Migration = {
  id: 14,
  name: "attempt-time-index",
  statements: [
    `ALTER TABLE attempts ADD INDEX IF NOT EXISTS received_at_minmax received_at TYPE minmax GRANULARITY 1`,
  ],
};
