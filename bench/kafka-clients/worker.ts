import { AnsweredOffsets } from "./answered-offsets.ts";
import { connectClient } from "./connect-client.ts";
import { replyBytes, type TrialSetup } from "./roles.ts";
import { serveParent, startArgument, tellParent } from "./rpc.ts";

/**
 * A worker as the request path has it, less the provider call: it consumes requests in the
 * workers' group over the three priority topics, answers each at once with a small reply on the
 * reply topic, and every 200 ms commits what it has answered (a request counts as answered once
 * Kafka took its reply).
 */
const setup = startArgument<TrialSetup>();
const reply = Buffer.alloc(replyBytes, "r");

const kafka = await connectClient(setup.client, setup.brokers);
const producer = await kafka.producer();
const consumer = await kafka.consume({
  groupId: setup.workerGroup,
  topics: setup.requestTopics,
  onMessage(message) {
    void producer.send(setup.replyTopic, message.key, reply).then(() => answered.answer(message));
  },
  onAssigned: (partitions) => tellParent("assigned", partitions),
});
const answered = new AnsweredOffsets(() => consumer, 200);

serveParent({
  requestCounts: () => kafka.requestCounts(),
  async stop() {
    await answered.stop();
    await consumer.close();
    await producer.close();
    setImmediate(() => process.exit(0));
  },
});
tellParent("ready", null);
