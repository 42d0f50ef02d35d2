import type { Redis } from "ioredis";
import { type CancelChannel, cancelMemoryMs } from "../coordination.ts";

/** The key that remembers a cancel for a worker that dequeues the request later (see claims.ts). */
export const cancelledKey = (requestId: string) => `cancelled:${requestId}`;

/**
 * Cancels are broadcast to every worker on one pub/sub channel (they are rare, and the worker
 * running the request may not be known yet), and remembered in a key for a worker that dequeues
 * the request later.
 */
export function createRedisCancels(redis: Redis, keyPrefix: string): CancelChannel {
  const channel = `${keyPrefix}cancel`;
  let subscriber: Redis | undefined;
  return {
    async cancel(id, memoryMs = cancelMemoryMs) {
      await redis.multi().set(cancelledKey(id), "1", "PX", memoryMs).publish(channel, id).exec();
    },
    async onCancel(handler) {
      if (!subscriber) {
        subscriber = redis.duplicate();
        await subscriber.connect();
      }
      subscriber.on("message", (_channel: string, requestId: string) => handler(requestId));
      await subscriber.subscribe(channel);
    },
    async close() {
      subscriber?.disconnect();
    },
  };
}
