import { createRequire } from "node:module";
import { Kafka, type KafkaConfig } from "kafkajs";

/**
 * kafkajs 2.2.4 (its last release) re-arms a timer on every connection after each check of its
 * request queue, even with nothing queued, and with a negative delay: every Kafka connection then
 * spins a ~1 ms timer for as long as it is open (kafkajs issues #1556 and #1704; the fix, PR #1667,
 * was never merged). Measured here: 30–40 ms of CPU per second per idle gateway process, and event
 * loop turns taken from requests under load.
 *
 * This replaces the scheduler with one that arms a timer only while requests wait: when nothing
 * is queued, a new request, or an in-flight one finishing, checks the queue by itself. The waits
 * kafkajs needs (broker throttling, a full in-flight window) are kept.
 */
const checkPendingRequestsIntervalMs = 10; // kafkajs's own CHECK_PENDING_REQUESTS_INTERVAL

interface RequestQueue {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

const require = createRequire(import.meta.url);
const RequestQueueClass = require("kafkajs/src/network/requestQueue/index.js") as { prototype: RequestQueue };

RequestQueueClass.prototype.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(
  this: RequestQueue,
) {
  if (this.throttleCheckTimeoutId || this.pending.length === 0) return;
  const untilUnthrottled = this.throttledUntil - Date.now();
  this.throttleCheckTimeoutId = setTimeout(
    () => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    },
    untilUnthrottled > 0 ? untilUnthrottled : checkPendingRequestsIntervalMs,
  );
};

export const kafkajsRequestQueue = RequestQueueClass;

/**
 * Every kafkajs client of the gateway, its CLI and the local services is made here, so the fix
 * above is in place before any of them connects (on Node 24, kafkajs's negative delay also prints
 * a TimeoutNegativeWarning on every process's stderr).
 */
export function newKafka(options: KafkaConfig): Kafka {
  return new Kafka(options);
}
