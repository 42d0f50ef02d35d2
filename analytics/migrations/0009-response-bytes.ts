import type { Migration } from "./migration.ts";

/** What each caller was sent, in bytes (HTTP: headers included; WebSocket: its messages). */
export const responseBytes: Migration = {
  id: 9,
  name: "response-bytes",
  statements: [
    `ALTER TABLE requests ADD COLUMN IF NOT EXISTS response_bytes UInt32 DEFAULT 0 AFTER request_bytes`,
  ],
};
