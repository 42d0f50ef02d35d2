import type { Migration } from "./migration.ts";

/** What the answer cache did for each request: hits are rows with no provider; misses mark the calls it will store. */
export const attemptCache: Migration = {
  id: 3,
  name: "attempt-cache",
  statements: [
    `ALTER TABLE attempts ADD COLUMN IF NOT EXISTS cache LowCardinality(String) DEFAULT '' AFTER deployment`,
  ],
};
