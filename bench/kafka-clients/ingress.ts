import { openLoop } from "../stats.ts";
import { connectClient } from "./connect-client.ts";
import { type Phase, type PhaseOutcome, requestBytes, type TrialSetup } from "./roles.ts";
import { serveParent, startArgument, tellParent } from "./rpc.ts";

/**
 * The ingress's part of the request path: it publishes each request (about 1 KB, keyed by its id,
 * spread over the three priority topics) and waits for its reply on the reply topic. What it
 * measures is the round trip from a request's due time to its reply consumed here.
 */
const setup = startArgument<TrialSetup>();
/** A request with no reply by then is counted lost, not waited for. */
const replyTimeoutMs = 30_000;
const payload = Buffer.alloc(requestBytes, "q");

interface Pending {
  dueAt: number;
  resolve: (latency: number) => void;
  reject: (error: Error) => void;
}

const kafka = await connectClient(setup.client, setup.brokers);
const producer = await kafka.producer();
const pending = new Map<string, Pending>();
let nextId = 0;

const consumer = await kafka.consume({
  groupId: setup.ingressGroup,
  topics: [setup.replyTopic],
  onMessage({ key }) {
    const id = key.toString();
    const request = pending.get(id);
    if (!request) return;
    pending.delete(id);
    request.resolve(performance.now() - request.dueAt);
  },
  onAssigned: (partitions) => tellParent("assigned", partitions),
});

// One sweep a second rather than a timer a request: the timers would cost CPU in the measure.
const sweep = setInterval(() => {
  const expired = performance.now() - replyTimeoutMs;
  for (const [id, request] of pending)
    if (request.dueAt < expired) {
      pending.delete(id);
      request.reject(new Error(`no reply in ${replyTimeoutMs} ms`));
    }
}, 1_000);

/** Publishes one request due at `dueAt`; resolves with its round trip once its reply is consumed. */
function roundTrip(dueAt: number): Promise<number> {
  const id = String(nextId++);
  const topic = setup.requestTopics[nextId % setup.requestTopics.length] as string;
  return new Promise<number>((resolve, reject) => {
    pending.set(id, { dueAt, resolve, reject });
    producer.send(topic, Buffer.from(id), payload).catch((error: Error) => {
      pending.delete(id);
      reject(error);
    });
  });
}

/** As many requests in flight as `inFlight`, each sent the moment one is answered, until `durationMs` is over. */
async function closedLoop(inFlight: number, durationMs: number): Promise<PhaseOutcome> {
  const endAt = performance.now() + durationMs;
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const lane = async () => {
    while (performance.now() < endAt) {
      try {
        latencies.push(await roundTrip(performance.now()));
      } catch (error) {
        if (errors++ === 0) firstError = (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return { latencies, errors, firstError };
}

serveParent({
  run: (argument) => {
    const phase = argument as Phase;
    return phase.kind === "rate"
      ? openLoop(phase.rate, phase.durationMs, roundTrip)
      : closedLoop(phase.inFlight, phase.durationMs);
  },
  requestCounts: () => kafka.requestCounts(),
  async stop() {
    clearInterval(sweep);
    await consumer.close();
    await producer.close();
    setImmediate(() => process.exit(0));
  },
});
tellParent("ready", null);
