import { Pool } from "undici";
import { timedChatCall } from "../chat-call.ts";
import { cpuOfProcesses, cpuOfTrees } from "../cpu.ts";
import { openLoop } from "../stats.ts";
import { closedLoop } from "./closed-loop.ts";
import type { PeersOptions } from "./options.ts";
import type { RunningTarget } from "./target.ts";

/** Latencies of one phase (ms) and how many calls of it failed, with the first failure's words. */
export interface Phase {
  latencies: number[];
  failures: number;
  firstFailure?: string;
}

/** One target measured once (one round). */
export interface TargetRound {
  /** Non-streaming at `rate` requests/s: closed loop (autocannon) and open loop (fixed schedule). */
  closed: Phase;
  open: Phase;
  /** Time to the first content chunk of a stream, open loop at `rate`. */
  stream: Phase;
  /**
   * CPU over both non-streaming phases per request sent (ms): of the target's own processes, and
   * in all with what they started (the embedded ClickHouse) and the services they need.
   */
  cpuPerRequest: { own: number; all: number };
  /** 200 answers per second with `mostConnections` unthrottled connections. */
  most: { perSecond: number; failures: number };
}

/** The phases, in this order: warm-up, closed loop, open loop (CPU over both), stream, the unthrottled run. */
export async function measureTarget(target: RunningTarget, options: PeersOptions): Promise<TargetRound> {
  const pool = new Pool(target.origin, { connections: 512 });
  const call = (stream: boolean) => (scheduledAt: number) =>
    timedChatCall(pool, target.headers, stream, scheduledAt);
  try {
    // Connections, JIT, and on the Kafka path topic metadata and consumer assignments.
    await openLoop(options.rate, options.warmupMs, call(false));
    await openLoop(options.rate, options.warmupMs / 2, call(true));
    await closedLoop(target, {
      connections: options.connections,
      durationMs: options.warmupMs,
      rate: options.rate,
    });

    const everything = [...target.pids, ...target.servicePids];
    const cpuBefore = { own: cpuOfProcesses(target.pids), all: cpuOfTrees(everything) };
    const closed = await closedLoop(target, {
      connections: options.connections,
      durationMs: options.phaseMs,
      rate: options.rate,
    });
    const open = await openLoop(options.rate, options.phaseMs, call(false));
    const cpuAfter = { own: cpuOfProcesses(target.pids), all: cpuOfTrees(everything) };
    const sent = closed.latencies.length + closed.failures + open.latencies.length + open.errors;

    const stream = await openLoop(options.rate, options.phaseMs, call(true));
    const most = await closedLoop(target, {
      connections: options.mostConnections,
      durationMs: options.mostMs,
    });
    return {
      closed,
      open: { latencies: open.latencies, failures: open.errors, firstFailure: open.firstError },
      stream: { latencies: stream.latencies, failures: stream.errors, firstFailure: stream.firstError },
      cpuPerRequest: {
        own: (cpuAfter.own - cpuBefore.own) / sent,
        all: (cpuAfter.all - cpuBefore.all) / sent,
      },
      most: { perSecond: most.answeredPerSecond, failures: most.failures },
    };
  } finally {
    await pool.close();
  }
}

/** Non-streaming requests at `rate` for `durationMs`, their figures dropped. */
export async function warmUp(target: RunningTarget, rate: number, durationMs: number): Promise<void> {
  const pool = new Pool(target.origin, { connections: 512 });
  try {
    await openLoop(rate, durationMs, (scheduledAt) =>
      timedChatCall(pool, target.headers, false, scheduledAt),
    );
  } finally {
    await pool.close();
  }
}
