import { readdirSync, readFileSync } from "node:fs";

const ticksPerSecond = 100; // USER_HZ on Linux

interface ProcessInfo {
  parent: number;
  /** CPU time used so far, user and system, in clock ticks. */
  ticks: number;
  commandLine: string;
}

/** A process's parent and CPU ticks so far, user and system (/proc/<pid>/stat; throws once it is gone). */
function readStat(pid: number | string): { parent: number; ticks: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name, which may hold spaces and parentheses of its own.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { parent: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
}

/** Every process on the machine now (Linux /proc), by pid. */
function readProcesses(): Map<number, ProcessInfo> {
  const all = new Map<number, ProcessInfo>();
  for (const entry of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      all.set(Number(entry), {
        ...readStat(entry),
        commandLine: readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " "),
      });
    } catch {
      // gone meanwhile
    }
  }
  return all;
}

/** Whether `pid` is one of `roots` or descends from one. */
function descendsFrom(all: Map<number, ProcessInfo>, pid: number, roots: Set<number>): boolean {
  for (let at = pid, hops = 0; at > 1 && hops < 64; hops++) {
    if (roots.has(at)) return true;
    at = all.get(at)?.parent ?? 0;
  }
  return false;
}

const toMs = (ticks: number) => (ticks * 1000) / ticksPerSecond;

/**
 * CPU time (ms) used so far by this process and its descendants, by label of their command line
 * (Linux /proc). Only descendants: other Kafka brokers or ClickHouse servers on the machine (another
 * test run) are not counted.
 */
export function cpuByLabel(labels: Record<string, RegExp>): Record<string, number> {
  const totals: Record<string, number> = Object.fromEntries(Object.keys(labels).map((label) => [label, 0]));
  const all = readProcesses();
  const ours = new Set([process.pid]);
  for (const [pid, info] of all) {
    if (!descendsFrom(all, pid, ours)) continue;
    const label = Object.entries(labels).find(([, pattern]) => pattern.test(info.commandLine))?.[0];
    if (label) totals[label] = (totals[label] ?? 0) + toMs(info.ticks);
  }
  return totals;
}

/** CPU time (ms) used so far by these processes and all their descendants (a server and what it started). */
export function cpuOfTrees(roots: number[]): number {
  const all = readProcesses();
  const wanted = new Set(roots);
  let ticks = 0;
  for (const [pid, info] of all) if (descendsFrom(all, pid, wanted)) ticks += info.ticks;
  return toMs(ticks);
}

/** CPU time (user + system, ms) a process used so far; throws once it is gone. */
export function cpuMsOf(pid: number): number {
  return toMs(readStat(pid).ticks);
}

/** CPU time (ms) used so far by exactly these processes, not what they started (one gone counts nothing). */
export function cpuOfProcesses(pids: number[]): number {
  let sum = 0;
  for (const pid of pids) {
    try {
      sum += cpuMsOf(pid);
    } catch {
      // gone meanwhile
    }
  }
  return sum;
}

/** This process's descendants whose command line matches `pattern`. */
export function descendantsMatching(pattern: RegExp): number[] {
  const all = readProcesses();
  const ours = new Set([process.pid]);
  return [...all]
    .filter(([pid, info]) => pattern.test(info.commandLine) && descendsFrom(all, pid, ours))
    .map(([pid]) => pid);
}

/** The whole machine's busy time so far (all CPUs, ms), to tell how much ran besides a benchmark. */
export function machineBusyMs(): number {
  const [, ...times] = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "").trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq, steal] = times.map(Number) as number[];
  const busy = [user, nice, system, irq, softirq, steal].reduce(
    (sum: number, value) => sum + (value ?? 0),
    0,
  );
  return toMs(busy);
}

/** The processes of a benchmark run, by role. */
export const benchProcesses: Record<string, RegExp> = {
  "gateway ingress (2)": /bin\/gateway\.ts start --role ingress/,
  "gateway worker (2)": /bin\/gateway\.ts start --role worker/,
  "gateway sink": /bin\/gateway\.ts start --role sink/,
  "Kafka broker": /kafka\.Kafka /,
  Redis: /^redis-server/,
  ClickHouse: /launch-embedded\.py/,
  "upstream emulator": /bench\/emulator\.ts/,
  "load generator": /bench\/run\.ts/,
};
