import type { Migration } from "./migration.ts";

/**
 * The batch job a request (and each of its provider calls) is a line of, '' for requests not
 * from a batch. A plain String like `end_user`, not LowCardinality: every batch has an id of its
 * own, so the values never repeat the way labels do. Both tables get a bloom-filter skipping index
 * (as `source_offset` has a minmax one) so that `batch_id = '…'`, one batch's rows among all
 * traffic, reads only the granules that may hold them; it is built for parts written from now on
 * (older parts have no batch ids to find, and are read as without an index).
 */
export const batchId: Migration = {
  id: 10,
  name: "batch-id",
  statements: [
    `ALTER TABLE attempts ADD COLUMN IF NOT EXISTS batch_id String DEFAULT '' AFTER end_user`,
    `ALTER TABLE attempts ADD INDEX IF NOT EXISTS batch_id_bloom batch_id TYPE bloom_filter GRANULARITY 1`,
    `ALTER TABLE requests ADD COLUMN IF NOT EXISTS batch_id String DEFAULT '' AFTER end_user`,
    `ALTER TABLE requests ADD INDEX IF NOT EXISTS batch_id_bloom batch_id TYPE bloom_filter GRANULARITY 1`,
  ],
};
