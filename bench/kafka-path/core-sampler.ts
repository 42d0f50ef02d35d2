import { cpuOfProcesses } from "../cpu.ts";
import { mean, slowestShare } from "../stats.ts";

/** The cores each role used in each interval of a phase. */
export interface CoreSamples {
  intervalMs: number;
  /** performance.now() at each sample. */
  at: number[];
  /** Per role: the cores it used between a sample and the one before (the first is 0). */
  cores: Record<string, number[]>;
}

/**
 * Samples the CPU of each role's processes every `intervalMs` until stopped, so a slow request can
 * be set against who held the cores while it was in flight.
 */
export function sampleCores(roles: Record<string, number[]>, intervalMs = 50) {
  const samples: CoreSamples = {
    intervalMs,
    at: [],
    cores: Object.fromEntries(Object.keys(roles).map((role) => [role, []])),
  };
  let last: Record<string, number> | undefined;
  let lastAt = 0;
  const take = () => {
    const now = performance.now();
    const used: Record<string, number> = {};
    for (const [role, pids] of Object.entries(roles)) used[role] = cpuOfProcesses(pids);
    samples.at.push(now);
    for (const role of Object.keys(roles))
      samples.cores[role]?.push(last ? ((used[role] ?? 0) - (last[role] ?? 0)) / (now - lastAt) : 0);
    last = used;
    lastAt = now;
  };
  take();
  const timer = setInterval(take, intervalMs);
  return {
    stop(): CoreSamples {
      clearInterval(timer);
      take();
      return samples;
    },
  };
}

/** A request of the phase: when it was due and when its answer was complete (performance.now()). */
export interface Flight {
  start: number;
  end: number;
}

/**
 * Per role, the cores it used on average over the phase, and on average over the intervals in
 * which the slowest `share` of the requests were in flight (each interval counted once).
 */
export function coresDuringSlowest(samples: CoreSamples, flights: Flight[], share = 0.01) {
  const chosen = slowestShare(flights, (flight) => flight.end - flight.start, share);
  const during = new Set<number>();
  // Sample i covers (at[i-1], at[i]]: it overlaps a flight unless it ended before or began after.
  for (const { start, end } of chosen)
    for (let index = 1; index < samples.at.length; index++)
      if ((samples.at[index] as number) > start && (samples.at[index - 1] as number) < end) during.add(index);
  return {
    requests: chosen.length,
    intervals: during.size,
    byRole: Object.fromEntries(
      Object.entries(samples.cores).map(([role, cores]) => [
        role,
        {
          overall: mean(cores.slice(1)),
          duringSlowest: mean([...during].map((index) => cores[index] as number)),
        },
      ]),
    ),
  };
}
