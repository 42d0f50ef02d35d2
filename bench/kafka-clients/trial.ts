import { setTimeout as sleep } from "node:timers/promises";
import { logLevel } from "kafkajs";
import { newKafka } from "../../runtime/kafkajs.ts";
import { cpuOfProcesses, cpuOfTrees, machineBusyMs } from "../cpu.ts";
import type { ClientName, RequestCounts } from "./client.ts";
import type { Phase, PhaseOutcome, TrialSetup } from "./roles.ts";
import { type ChildRpc, forkChild } from "./rpc.ts";

export interface Broker {
  brokers: string[];
  /** The broker's process (with what runs it), whose CPU time is counted as the broker's. */
  pid: number;
}

export interface TrialOptions {
  partitions: number;
  warmup: Phase;
  phases: Phase[];
}

/** What one phase of one trial cost and how long its round trips took. */
export interface PhaseMeasure extends PhaseOutcome {
  phase: Phase;
  seconds: number;
  /** CPU time (ms) over the phase, by process. */
  cpuMs: { ingress: number; workers: number; broker: number };
  /** Busy time (ms) of the whole machine over the phase, all cores: ours and anyone else's. */
  machineBusyMs: number;
  /** Requests the three client processes sent the broker over the phase, by kind. */
  brokerRequests: RequestCounts;
}

export interface TrialResult {
  client: ClientName;
  round: number;
  phases: PhaseMeasure[];
}

const workerCount = 2;
const settleTimeoutMs = 90_000;

/** The topics and groups of one client's turn, its own so that no turn reads another's leftovers. */
export function trialSetup(client: ClientName, round: number, brokers: string[]): TrialSetup {
  const prefix = `kc-${round}-${client.replace(/\W+/g, "")}-`;
  return {
    client,
    brokers,
    requestTopics: ["interactive", "default", "batch"].map((priority) => `${prefix}requests-${priority}`),
    replyTopic: `${prefix}replies`,
    workerGroup: `${prefix}workers`,
    ingressGroup: `${prefix}ingress`,
  };
}

/**
 * Creates topics and waits for their leaders. This bench creates every turn's topics before the
 * first turn: each turn then meets the broker in the same state, and none overlaps the deletion of
 * the last one's (which made kafkajs's wait for leaders fail in a first try).
 */
export async function createTopics(brokers: string[], topics: string[], partitions: number): Promise<void> {
  const admin = newKafka({ brokers, logLevel: logLevel.WARN }).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: topics.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })),
    });
    for (let tries = 0; ; tries++) {
      const metadata = await admin.fetchTopicMetadata({ topics }).catch(() => undefined);
      const led = metadata?.topics.every((topic) => topic.partitions.every(({ leader }) => leader >= 0));
      if (led) return;
      if (tries === 60) throw new Error("the bench's topics have no leaders after 30 s");
      await sleep(500);
    }
  } finally {
    await admin.disconnect();
  }
}

/** One client's turn on the shared broker: two worker processes, the ingress, the warm-up, then each phase measured. */
export async function runTrial(setup: TrialSetup, round: number, broker: Broker, options: TrialOptions) {
  const children: ChildRpc[] = [];
  try {
    const workers = Array.from({ length: workerCount }, () =>
      forkChild(new URL("./worker.ts", import.meta.url), setup),
    );
    const ingress = forkChild(new URL("./ingress.ts", import.meta.url), setup);
    children.push(...workers, ingress);
    await settled(workers, ingress, options.partitions);
    await ingress.call<PhaseOutcome>("run", options.warmup);
    const phases: PhaseMeasure[] = [];
    for (const phase of options.phases) {
      process.stderr.write(`  ${phase.name}\n`);
      phases.push(await measurePhase(phase, ingress, workers, broker.pid));
    }
    return { client: setup.client, round, phases } satisfies TrialResult;
  } finally {
    await Promise.all(children.map((child) => child.stop()));
  }
}

/**
 * Resolves once every process is connected and the workers' group has settled: each worker owns
 * some request partitions and together they own them all (a worker that joined second makes the
 * first give up half of its own in a rebalance), and the ingress owns the reply partitions.
 */
function settled(workers: ChildRpc[], ingress: ChildRpc, partitions: number): Promise<void> {
  const owned = new Map<ChildRpc, number>();
  const ready = new Set<ChildRpc>();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the consumer groups did not settle in ${settleTimeoutMs / 1000} s`)),
      settleTimeoutMs,
    );
    const check = () => {
      const byWorker = workers.map((worker) => owned.get(worker) ?? 0);
      const workersSettled =
        byWorker.every((count) => count > 0) && byWorker.reduce((a, b) => a + b) === 3 * partitions;
      if (ready.size === workers.length + 1 && workersSettled && owned.get(ingress) === partitions) {
        clearTimeout(timer);
        resolve();
      }
    };
    for (const child of [...workers, ingress])
      child.onEvent((event, data) => {
        if (event === "ready") ready.add(child);
        if (event === "assigned") owned.set(child, data as number);
        check();
      });
  });
}

async function measurePhase(
  phase: Phase,
  ingress: ChildRpc,
  workers: ChildRpc[],
  brokerPid: number,
): Promise<PhaseMeasure> {
  const snapshot = async () => ({
    requests: await Promise.all(
      [ingress, ...workers].map((child) => child.call<RequestCounts>("requestCounts")),
    ),
    ingress: cpuOfProcesses([ingress.pid]),
    workers: cpuOfProcesses(workers.map((worker) => worker.pid)),
    broker: cpuOfTrees([brokerPid]),
    machine: machineBusyMs(),
    at: performance.now(),
  });
  const before = await snapshot();
  const outcome = await ingress.call<PhaseOutcome>("run", phase);
  const after = await snapshot();
  return {
    ...outcome,
    phase,
    seconds: (after.at - before.at) / 1000,
    cpuMs: {
      ingress: after.ingress - before.ingress,
      workers: after.workers - before.workers,
      broker: after.broker - before.broker,
    },
    machineBusyMs: after.machine - before.machine,
    brokerRequests: countsBetween(before.requests, after.requests),
  };
}

function countsBetween(before: RequestCounts[], after: RequestCounts[]): RequestCounts {
  const total: RequestCounts = {};
  after.forEach((counts, index) => {
    for (const [kind, count] of Object.entries(counts))
      total[kind] = (total[kind] ?? 0) + count - (before[index]?.[kind] ?? 0);
  });
  return total;
}
