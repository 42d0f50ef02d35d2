import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { replyEventCodec } from "../../schemas/index.ts";
import type { ReplyReceiver, ReplySender } from "../contracts.ts";

/**
 * Replies over Redis pub/sub: one channel per ingress instance, Avro bytes as the message. Chosen
 * for latency (a PUBLISH reaches the subscriber in well under a millisecond, see BENCHMARKS.md);
 * what it does not give — delivery to a subscriber that is away — is not needed, because a reply
 * is only useful to the ingress holding the client at that moment.
 */
export function createRedisReplySender(redis: Redis): ReplySender {
  return {
    async send(address, event) {
      await redis.publish(address, replyEventCodec.encode(event));
    },
  };
}

export async function createRedisReplyReceiver(redis: Redis, channelPrefix: string): Promise<ReplyReceiver> {
  // A subscribed connection can do nothing else, so the receiver has its own.
  const subscriber = redis.duplicate();
  await subscriber.connect();
  const address = `${channelPrefix}reply:${randomUUID()}`;
  return {
    address,
    async listen(handler) {
      subscriber.on("messageBuffer", (_channel: Buffer, message: Buffer) =>
        handler(replyEventCodec.decode(message)),
      );
      await subscriber.subscribe(address);
    },
    async close() {
      subscriber.disconnect();
    },
  };
}
