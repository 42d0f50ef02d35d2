import type { Migration } from "./migration.ts";

/** Which route (the model asked, or a fallback) and which deployment each call went to: failover paths. */
export const attemptRoutes: Migration = {
  id: 2,
  name: "attempt-routes",
  statements: [
    `ALTER TABLE attempts
      ADD COLUMN IF NOT EXISTS route LowCardinality(String) DEFAULT '' AFTER model_requested,
      ADD COLUMN IF NOT EXISTS deployment LowCardinality(String) DEFAULT '' AFTER route`,
  ],
};
