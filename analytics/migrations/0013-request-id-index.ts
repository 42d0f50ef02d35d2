import type { Migration } from "./migration.ts";

/**
 * A bloom-filter skipping index on `requests.request_id`: the table is ordered by hour and key,
 * so finding one request by its id (the dashboard's request detail, a link from a log line) would
 * read every granule of the id column; with the index it reads the few whose filter may hold it.
 * Built for parts written from now on, as batch_id's (0010).
 */
export const requestIdIndex: Migration = {
  id: 13,
  name: "request-id-index",
  statements: [
    `ALTER TABLE requests ADD INDEX IF NOT EXISTS request_id_bloom request_id TYPE bloom_filter GRANULARITY 1`,
  ],
};
