import type { Migration } from "./migration.ts";

/**
 * Output tokens per second from the first token on: a provider's generation speed (attempts) and
 * what the caller saw (requests). Null when there was no first token or no time after it.
 */
export const outputSpeed: Migration = {
  id: 8,
  name: "output-speed",
  statements: [
    `ALTER TABLE attempts ADD COLUMN IF NOT EXISTS output_tokens_per_second Nullable(Float64)
      MATERIALIZED output_tokens * 1000 / nullIf(dateDiff('millisecond', first_token_at, finished_at), 0)`,
    `ALTER TABLE requests ADD COLUMN IF NOT EXISTS output_tokens_per_second Nullable(Float64)
      MATERIALIZED output_tokens * 1000 / nullIf(dateDiff('millisecond', first_token_at, finished_at), 0)`,
  ],
};
