import type { CommitPoint } from "./client.ts";
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
const commitIntervalMs = 200;
const reply = Buffer.alloc(replyBytes, "r");

const kafka = await connectClient(setup.client, setup.brokers);
const producer = await kafka.producer();
/** By partition, where the group resumes once answered requests are committed. */
const answered = new Map<string, CommitPoint>();
const committed = new Map<string, bigint>();

const consumer = await kafka.consume({
  groupId: setup.workerGroup,
  topics: setup.requestTopics,
  onMessage({ topic, partition, offset, leaderEpoch, key }) {
    void producer.send(setup.replyTopic, key, reply).then(() => {
      const partitionKey = `${topic}:${partition}`;
      const next = offset + 1n;
      // Replies of one partition are taken in the order they were sent; the check keeps the point
      // from going back if a retried batch resolves late.
      if ((answered.get(partitionKey)?.next ?? -1n) < next)
        answered.set(partitionKey, { topic, partition, next, leaderEpoch });
    });
  },
  onAssigned: (partitions) => tellParent("assigned", partitions),
});

let committing: Promise<void> = Promise.resolve();
const commitTimer = setInterval(() => {
  committing = committing
    .then(commitAnswered)
    .catch((error: Error) => console.error(`worker commit failed: ${error.message}`));
}, commitIntervalMs);

async function commitAnswered(): Promise<void> {
  const due = [...answered].filter(([key, point]) => committed.get(key) !== point.next);
  if (due.length === 0) return;
  await consumer.commit(due.map(([, point]) => point));
  for (const [key, point] of due) committed.set(key, point.next);
}

serveParent({
  requestCounts: () => kafka.requestCounts(),
  async stop() {
    clearInterval(commitTimer);
    await committing;
    await consumer.close();
    await producer.close();
    setImmediate(() => process.exit(0));
  },
});
tellParent("ready", null);
