import type { Migration } from "./migration.ts";

/** Prompts and completions, for operators who store them (analytics.content); empty otherwise. Text compresses well. */
export const requestContent: Migration = {
  id: 7,
  name: "request-content",
  statements: [
    `ALTER TABLE requests
      ADD COLUMN IF NOT EXISTS prompt String DEFAULT '' CODEC(ZSTD(3)),
      ADD COLUMN IF NOT EXISTS completion String DEFAULT '' CODEC(ZSTD(3))`,
  ],
};
