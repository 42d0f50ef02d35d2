import { readdirSync, readFileSync } from "node:fs";

const ticksPerSecond = 100; // USER_HZ on Linux

/** CPU time (ms) used so far by each process whose command line matches a label's pattern (Linux /proc). */
export function cpuByLabel(labels: Record<string, RegExp>): Record<string, number> {
  const totals: Record<string, number> = Object.fromEntries(Object.keys(labels).map((label) => [label, 0]));
  for (const pid of readdirSync("/proc").filter((entry) => /^\d+$/.test(entry))) {
    let commandLine: string;
    let stat: string;
    try {
      commandLine = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue; // gone meanwhile
    }
    const label = Object.entries(labels).find(([, pattern]) => pattern.test(commandLine))?.[0];
    if (!label) continue;
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
    totals[label] = (totals[label] ?? 0) + (ticks * 1000) / ticksPerSecond;
  }
  return totals;
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
