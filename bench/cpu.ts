import { readdirSync, readFileSync } from "node:fs";

const ticksPerSecond = 100; // USER_HZ on Linux

/**
 * CPU time (ms) used so far by this process and its descendants, by label of their command line
 * (Linux /proc). Only descendants: other Kafka brokers or ClickHouse servers on the machine (another
 * test run) are not counted.
 */
export function cpuByLabel(labels: Record<string, RegExp>): Record<string, number> {
  const totals: Record<string, number> = Object.fromEntries(Object.keys(labels).map((label) => [label, 0]));
  const all = new Map<number, { parent: number; ticks: number; commandLine: string }>();
  for (const entry of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      all.set(Number(entry), {
        parent: Number(fields[1]),
        ticks: Number(fields[11]) + Number(fields[12]), // utime + stime
        commandLine: readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " "),
      });
    } catch {
      // gone meanwhile
    }
  }
  const ours = (pid: number): boolean => {
    for (let at = pid, hops = 0; at > 1 && hops < 64; hops++) {
      if (at === process.pid) return true;
      at = all.get(at)?.parent ?? 0;
    }
    return false;
  };
  for (const [pid, info] of all) {
    if (!ours(pid)) continue;
    const label = Object.entries(labels).find(([, pattern]) => pattern.test(info.commandLine))?.[0];
    if (label) totals[label] = (totals[label] ?? 0) + (info.ticks * 1000) / ticksPerSecond;
  }
  return totals;
}

/** The whole machine's busy time so far (all CPUs, ms), to tell how much ran besides a benchmark. */
export function machineBusyMs(): number {
  const [, ...times] = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "").trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq, steal] = times.map(Number) as number[];
  const busy = [user, nice, system, irq, softirq, steal].reduce(
    (sum: number, value) => sum + (value ?? 0),
    0,
  );
  return (busy * 1000) / ticksPerSecond;
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
