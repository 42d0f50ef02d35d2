import { cpus, totalmem } from "node:os";
import { ms, quantile } from "../stats.ts";
import type { ProcessCounters } from "./counters.ts";
import type { LoopFigures } from "./loop-delay.ts";
import type { RoundResult } from "./measure.ts";
import type { KafkaPathOptions } from "./options.ts";
import type { SoakResult } from "./soak.ts";
import type { stagesOfSlowest } from "./stages.ts";

export interface KafkaPathRun {
  options: KafkaPathOptions;
  command: string;
  startedAt: Date;
  loadAtStart: number[];
  seconds: number;
}

const fixed = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : "n/a");

function header(run: KafkaPathRun, what: string): string[] {
  return [
    `Measured ${run.startedAt.toISOString().slice(0, 16).replace("T", " ")} UTC by \`${run.command}\` (${run.seconds} s) on ${cpus().length} cores (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; load average ${run.loadAtStart.map((load) => load.toFixed(2)).join(" / ")} at the start.`,
    "",
    `Everything on this one machine: Kafka, Redis and ClickHouse (as the tests run them), the upstream emulator, the gateway as 1 ingress, 2 workers and the sink (each \`ai-gateway start --role …\`), and the load generator. ${run.options.warmupMs / 1000} s of load first, unmeasured (the broker's JIT); then ${what}, open loop at ${run.options.rate} requests/s (a request due every ${1000 / run.options.rate} ms whatever the answers, its latency from the due time).`,
    "",
  ];
}

/** The rounds: added latency, then per process CPU, system calls, cores and memory, Redis, ClickHouse. */
export function renderRounds(
  run: KafkaPathRun,
  rounds: RoundResult[],
  residentAfter: Record<string, number>,
  stages: ReturnType<typeof stagesOfSlowest>,
): string {
  const { options } = run;
  const requests = rounds.reduce((sum, round) => sum + round.flights.length + round.errors, 0);
  const sumOf = (pick: (round: RoundResult) => number) => rounds.reduce((sum, round) => sum + pick(round), 0);
  const perRequest = (pick: (round: RoundResult) => number) => sumOf(pick) / requests;
  const meanOf = (pick: (round: RoundResult) => number) => sumOf(pick) / rounds.length;
  const ofRole = (role: string | undefined, counter: keyof ProcessCounters) =>
    perRequest((round) =>
      Object.entries(round.processes)
        .filter(([name]) => role === undefined || name === role)
        .reduce((sum, [, counters]) => sum + counters[counter], 0),
    );
  const added = (chosen: RoundResult[], q: number) =>
    quantile(
      chosen.flatMap((round) => round.flights.map((flight) => flight.end - flight.start)),
      q,
    ) -
    quantile(
      chosen.flatMap((round) => round.direct),
      q,
    );
  const latencyRow = (label: string, chosen: RoundResult[]) =>
    `| ${label} | ${[0.5, 0.9, 0.99, 0.999].map((q) => ms(added(chosen, q))).join(" | ")} | ${chosen.reduce((sum, round) => sum + round.errors, 0)} |`;
  const roleRow = (role: string) =>
    `| ${role} | ${fixed(ofRole(role, "cpuMs"))} | ${fixed(ofRole(role, "writes"), 1)} | ${fixed(ofRole(role, "reads"), 1)} | ${fixed(meanOf((round) => round.tail.byRole[role]?.overall ?? 0))} | ${fixed(meanOf((round) => round.tail.byRole[role]?.duringSlowest ?? 0))} | ${fixed(rounds.at(-1)?.residentMiB[role] ?? 0, 0)} / ${fixed(residentAfter[role] ?? 0, 0)} |`;
  const commands = Object.keys(rounds[0]?.redisCalls ?? {})
    .map((command) => ({ command, calls: perRequest((round) => round.redisCalls[command] ?? 0) }))
    .filter(({ calls }) => calls >= 0.01)
    .sort((a, b) => b.calls - a.calls);
  const phaseSeconds = sumOf((round) => round.phaseMs) / 1000;
  const inserts = sumOf((round) => round.clickhouse.InsertQuery);
  return [
    ...header(
      run,
      `${rounds.length} rounds, each ${options.directMs / 1000} s to the upstream alone and ${options.phaseMs / 1000} s through the gateway`,
    ),
    "Added by the gateway to the upstream's own latency (ms; each percentile of the gateway's latencies less the same percentile of the upstream's alone, so a stall during the upstream's own phase can make a higher percentile's figure the smaller):",
    "",
    "| rounds | p50 | p90 | p99 | p99.9 | failed |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
    ...rounds.map((round, index) => latencyRow(`round ${index + 1}`, [round])),
    latencyRow("**all**", rounds),
    "",
    `Per process, over all rounds: CPU and system calls per request; the cores each used on average, and while the slowest 1 % of the requests (${rounds[0]?.tail.requests ?? 0} a round) were in flight (sampled every 50 ms, the mean of the rounds); resident memory at the end of the last round and after the load had stopped:`,
    "",
    "| process | CPU ms per request | write calls per request | read calls per request | cores, average | cores, while the slowest 1 % were in flight | resident MiB, under load / after |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...Object.keys(rounds[0]?.processes ?? {}).map(roleRow),
    `| **all** | **${fixed(ofRole(undefined, "cpuMs"))}** | ${fixed(ofRole(undefined, "writes"), 1)} | ${fixed(ofRole(undefined, "reads"), 1)} | | | |`,
    "",
    `Redis commands per request (INFO commandstats; a script's own commands counted too): ${commands.map(({ command, calls }) => `${command} ${fixed(calls)}`).join(", ")}.`,
    "",
    `ClickHouse (its system.events): ${fixed(inserts / phaseSeconds, 1)} inserts/s of ${fixed(sumOf((round) => round.clickhouse.InsertedRows) / Math.max(1, inserts), 0)} rows each (materialized views' rows included), ${fixed(sumOf((round) => round.clickhouse.Merge) / phaseSeconds, 1)} merges/s, ${fixed(sumOf((round) => round.clickhouse.OSCPUVirtualTimeMicroseconds) / 1000 / Math.max(1, inserts), 1)} ms of query CPU per insert.`,
    "",
    `Where the time went inside the gateway, from its own events in ClickHouse (ms; ${stages.requests} requests of all rounds, the slowest ${stages.slowest} by their time from the ingress receiving them to its finishing the answer): inbound is the ingress's admission, the produce, the Kafka hop and the worker's fetch and queue; call is the worker's claim and the upstream call; outbound is the worker's finish, the Redis reply and the ingress's dispatch. What the client saw beyond the total is the HTTP exchange itself (connection, parsing, the answer's write) and the load generator.`,
    "",
    "| stage | median of all | mean of the slowest 1 % |",
    "| --- | ---: | ---: |",
    ...stages.rows.map((row) => `| ${row.stage} | ${ms(row.medianOfAll)} | ${ms(row.meanOfSlowest)} |`),
    "",
    "The gateway's processes' event loops and garbage collections over the rounds, from their own /metrics (how late the event loop was, from prom-client's sample of it every 10 ms: of a role's processes and rounds, the worst; collections of the role's processes together, minor being V8's scavenges of the young generation and major every other kind):",
    "",
    "| process | event-loop delay p99 (ms) | longest event-loop delay (ms) | minor collections a second | their pauses, ms a second | major collections a second | their pauses, ms a second |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...Object.keys(rounds[0]?.loops ?? {}).map((role) => {
      const figures = rounds.flatMap((round) => round.loops[role] ?? []);
      const worst = (pick: (figure: LoopFigures) => number) => Math.max(...figures.map(pick));
      const perSecond = (pick: (figure: LoopFigures) => number) =>
        figures.reduce((sum, figure) => sum + pick(figure), 0) / phaseSeconds;
      return `| ${role} | ${ms(worst((figure) => figure.delayP99Ms))} | ${ms(worst((figure) => figure.delayMaxMs))} | ${fixed(
        perSecond((figure) => figure.minorCollections),
        1,
      )} | ${ms(perSecond((figure) => figure.minorCollectionMs))} | ${fixed(
        perSecond((figure) => figure.otherCollections),
        1,
      )} | ${ms(perSecond((figure) => figure.otherCollectionMs))} |`;
    }),
  ].join("\n");
}

/** The soak: each minute's latency (the gateway's whole, not added) and every role's memory. */
export function renderSoak(run: KafkaPathRun, soak: SoakResult): string {
  const roles = Object.keys(soak.atStart);
  const first = soak.minutes[0];
  const last = soak.minutes.at(-1);
  return [
    ...header(run, `${soak.minutes.length} minutes without a pause`),
    "Resident memory (MiB) of each process as the load began, at the end of each minute, and after the load had stopped; then the latency of each minute through the gateway (ms, the upstream's own included):",
    "",
    `| process | start | ${soak.minutes.map(({ minute }) => `${minute} min`).join(" | ")} | ${soak.idleMs / 1000} s after | last minute − first |`,
    `| --- | ---: | ${soak.minutes.map(() => "---:").join(" | ")} | ---: | ---: |`,
    ...roles.map(
      (role) =>
        `| ${role} | ${fixed(soak.atStart[role] ?? 0, 0)} | ${soak.minutes.map((minute) => fixed(minute.residentMiB[role] ?? 0, 0)).join(" | ")} | ${fixed(soak.afterIdle[role] ?? 0, 0)} | ${fixed((last?.residentMiB[role] ?? 0) - (first?.residentMiB[role] ?? 0), 0)} |`,
    ),
    `| p50 / p99 (ms) | | ${soak.minutes.map((minute) => `${ms(minute.p50)} / ${ms(minute.p99)}`).join(" | ")} | | |`,
    `| failed | | ${soak.minutes.map((minute) => minute.errors).join(" | ")} | | |`,
  ].join("\n");
}
