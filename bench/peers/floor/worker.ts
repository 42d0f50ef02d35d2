import { Redis } from "ioredis";
import { Pool } from "undici";
import { AnsweredOffsets } from "../../kafka-clients/answered-offsets.ts";
import { connectClient } from "../../kafka-clients/connect-client.ts";
import { serveParent, startArgument, tellParent } from "../../kafka-clients/rpc.ts";
import type { FloorReply, FloorRequest, FloorSetup } from "./setup.ts";

/**
 * The floor's worker: consumes calls in the workers' group over the priority topics, makes each
 * on the upstream, publishes the answer on the caller's Redis channel, and every 200 ms commits
 * what it answered. No claim, no routing, no events: what the design's worker cannot do without.
 */
const setup = startArgument<FloorSetup>();
const upstream = new URL(setup.upstreamUrl);
const pool = new Pool(upstream.origin, { connections: 512 });
const publisher = new Redis(setup.redisUrl, { enableAutoPipelining: true });
const kafka = await connectClient("@platformatic/kafka", setup.brokers);

const consumer = await kafka.consume({
  groupId: setup.workerGroup,
  topics: setup.requestTopics,
  onMessage(message) {
    const request = JSON.parse(message.value.toString()) as FloorRequest;
    void call(request)
      .then((reply) => publisher.publish(request.replyTo, JSON.stringify(reply)))
      .then(() => answered.answer(message))
      .catch((error: Error) => console.error(`floor worker: ${error.message}`));
  },
  onAssigned: (partitions) => tellParent("assigned", partitions),
});
const answered = new AnsweredOffsets(() => consumer, 200);

async function call(request: FloorRequest): Promise<FloorReply> {
  const response = await pool.request({
    method: "POST",
    path: `${upstream.pathname}${request.path}`,
    headers: { "content-type": "application/json", authorization: request.authorization },
    body: request.body,
  });
  return {
    id: request.id,
    status: response.statusCode,
    contentType: String(response.headers["content-type"] ?? "application/json"),
    body: await response.body.text(),
  };
}

serveParent({
  async stop() {
    await answered.stop();
    await consumer.close();
    await pool.close();
    publisher.disconnect();
    setImmediate(() => process.exit(0));
  },
});
tellParent("ready", null);
