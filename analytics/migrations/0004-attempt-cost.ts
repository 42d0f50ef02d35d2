import type { Migration } from "./migration.ts";

/**
 * What each call cost, as an exact decimal of USD (nano-dollar steps, so sums over millions of
 * rows stay exact to the cent), whether its deployment had a price at all, and what a cache hit saved.
 */
export const attemptCost: Migration = {
  id: 4,
  name: "attempt-cost",
  statements: [
    `ALTER TABLE attempts
      ADD COLUMN IF NOT EXISTS cost Decimal(18, 9) DEFAULT 0 AFTER usage_estimated,
      ADD COLUMN IF NOT EXISTS priced Bool DEFAULT false AFTER cost,
      ADD COLUMN IF NOT EXISTS cost_saved Decimal(18, 9) DEFAULT 0 AFTER priced`,
  ],
};
