import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { replyEventCodec } from "../../schemas/index.ts";
import type { Finishing } from "../coordination.ts";
import type { ReplyReceiver, ReplySender } from "../messaging.ts";
import type { FinishClaim } from "./claims.ts";

/**
 * Replies over Redis pub/sub: one channel per ingress instance. Chosen for latency (a PUBLISH
 * reaches its subscriber in about half a millisecond here, a Kafka reply topic in ten: see
 * BENCHMARKS.md); what it does not give — delivery to a subscriber that is away — is not needed,
 * because a reply only matters to the ingress holding the client at that moment.
 *
 * The events sent to one ingress within one turn of the event loop travel in one message (each
 * Avro record behind its 4-byte length and the 2-byte schema version it was written with, so
 * that processes of different releases understand each other), so a burst such as finish +
 * usage + completed is one PUBLISH, not three.
 */
const frameHeaderBytes = 6;

export function createRedisReplySender(redis: Redis, finishClaim: FinishClaim): ReplySender {
  let pending = new Map<
    string,
    {
      frames: Buffer[];
      waiters: Array<{ resolve: () => void; reject: (error: Error) => void }>;
      finishes: Array<{ requestId: string; finishing: Finishing }>;
    }
  >();
  const flush = () => {
    const batches = pending;
    pending = new Map();
    for (const [address, { frames, waiters, finishes }] of batches) {
      const message = Buffer.concat(frames);
      // A batch that ends requests is published by the script that marks them finished. Rarely
      // more than one ends in the same turn: the first carries the message, the others follow it.
      const [first, ...others] = finishes;
      const published: Promise<unknown> = first
        ? finishClaim(first.requestId, first.finishing, { channel: address, message }).then(() =>
            Promise.all(others.map(({ requestId, finishing }) => finishClaim(requestId, finishing))),
          )
        : redis.publish(address, message);
      published.then(
        () => {
          for (const waiter of waiters) waiter.resolve();
        },
        (error: Error) => {
          for (const waiter of waiters) waiter.reject(error);
        },
      );
    }
  };
  return {
    send(address, event, finish) {
      return new Promise((resolve, reject) => {
        const encoded = replyEventCodec.encode(event);
        const header = Buffer.allocUnsafe(frameHeaderBytes);
        header.writeUInt32BE(encoded.length, 0);
        header.writeUInt16BE(replyEventCodec.version, 4);
        let batch = pending.get(address);
        if (!batch) {
          if (pending.size === 0) setImmediate(flush);
          batch = { frames: [], waiters: [], finishes: [] };
          pending.set(address, batch);
        }
        batch.frames.push(header, encoded);
        batch.waiters.push({ resolve, reject });
        if (finish) batch.finishes.push({ requestId: event.requestId, finishing: finish });
      });
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
      subscriber.on("messageBuffer", (_channel: Buffer, message: Buffer) => {
        for (let offset = 0; offset + frameHeaderBytes <= message.length; ) {
          const length = message.readUInt32BE(offset);
          const version = message.readUInt16BE(offset + 4);
          const start = offset + frameHeaderBytes;
          handler(replyEventCodec.decode(message.subarray(start, start + length), version));
          offset = start + length;
        }
      });
      await subscriber.subscribe(address);
    },
    async close() {
      subscriber.disconnect();
    },
  };
}
