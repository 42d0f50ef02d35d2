import { randomUUID } from "node:crypto";
import Fastify from "fastify";
import { Redis } from "ioredis";
import { connectClient } from "../../kafka-clients/connect-client.ts";
import { serveParent, startArgument, tellParent } from "../../kafka-clients/rpc.ts";
import type { FloorReply, FloorRequest, FloorSetup } from "./setup.ts";

/**
 * The floor's ingress: fastify takes the call as bytes (no parsing, no key, no validation),
 * publishes it on Kafka and answers with the reply its Redis channel brings back. What the
 * design's ingress cannot do without.
 */
const setup = startArgument<FloorSetup>();
const replyTo = `floor:replies:${randomUUID()}`;
const kafka = await connectClient("@platformatic/kafka", setup.brokers);
const producer = await kafka.producer();
const pending = new Map<string, (reply: FloorReply) => void>();
let nextId = 0;

const subscriber = new Redis(setup.redisUrl);
await subscriber.subscribe(replyTo);
subscriber.on("message", (_channel: string, message: string) => {
  const reply = JSON.parse(message) as FloorReply;
  pending.get(reply.id)?.(reply);
  pending.delete(reply.id);
});

const server = Fastify();
server.addContentTypeParser("application/json", { parseAs: "string" }, (_request, body, done) =>
  done(null, body),
);
server.post("/v1/*", async (request, response) => {
  const id = String(nextId++);
  const message: FloorRequest = {
    id,
    replyTo,
    path: request.url.replace(/^\/v1/, ""),
    authorization: request.headers.authorization ?? "",
    body: request.body as string,
  };
  const reply = await new Promise<FloorReply>((resolve, reject) => {
    pending.set(id, resolve);
    producer
      .send(setup.requestTopics[0] as string, Buffer.from(id), Buffer.from(JSON.stringify(message)))
      .catch((error: Error) => {
        pending.delete(id);
        reject(error);
      });
  });
  return response.code(reply.status).type(reply.contentType).send(reply.body);
});
await server.listen({ host: "127.0.0.1", port: setup.port });

serveParent({
  async stop() {
    await server.close();
    await producer.close();
    subscriber.disconnect();
    setImmediate(() => process.exit(0));
  },
});
tellParent("ready", null);
