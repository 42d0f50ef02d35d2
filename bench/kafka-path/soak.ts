import type { Topology } from "../distributed-gateway.ts";
import { openLoop, quantile } from "../stats.ts";
import { residentByRole } from "./measure.ts";

export interface SoakMinute {
  minute: number;
  /** Per role, resident memory at the minute's end (MiB). */
  residentMiB: Record<string, number>;
  p50: number;
  p99: number;
  errors: number;
}

export interface SoakResult {
  /** Resident memory as the load began (after the warm-up). */
  atStart: Record<string, number>;
  minutes: SoakMinute[];
  /** Resident memory once the load had stopped for `idleMs`. */
  afterIdle: Record<string, number>;
  idleMs: number;
}

/**
 * The gateway at `rate` for `minutes`, one open loop a minute back to back: each minute's
 * latencies and every role's resident memory at its end, then again after the load has stopped.
 */
export async function soak(
  topology: Topology,
  roles: Record<string, number[]>,
  rate: number,
  minutes: number,
  idleMs = 30_000,
): Promise<SoakResult> {
  const atStart = residentByRole(roles);
  const result: SoakMinute[] = [];
  for (let minute = 1; minute <= minutes; minute++) {
    process.stderr.write(`soak: minute ${minute}/${minutes}\n`);
    const phase = await openLoop(rate, 60_000, topology.call(false));
    result.push({
      minute,
      residentMiB: residentByRole(roles),
      p50: quantile(phase.latencies, 0.5),
      p99: quantile(phase.latencies, 0.99),
      errors: phase.errors,
    });
  }
  await new Promise((resolve) => setTimeout(resolve, idleMs));
  return { atStart, minutes: result, afterIdle: residentByRole(roles), idleMs };
}
