import { cpus, totalmem } from "node:os";
import { quantile } from "../stats.ts";
import type { ClientName } from "./client.ts";
import type { KafkaClientsOptions } from "./options.ts";
import type { PhaseMeasure, TrialResult } from "./trial.ts";

export interface KafkaClientsRun {
  options: KafkaClientsOptions;
  trials: TrialResult[];
  command: string;
  startedAt: Date;
  loadAtStart: number[];
  seconds: number;
  versions: Record<string, string>;
  /** The broker's CPU with no client connected (cores). */
  brokerIdleCores: number;
}

/** One phase of one client, its rounds pooled: round trips merged, CPU summed over requests summed. */
interface Pooled {
  client: ClientName;
  phase: string;
  requests: number;
  errors: number;
  perSecond: number;
  p50: number;
  p99: number;
  p999: number;
  /** CPU (ms) per request answered, by process kind. */
  ingress: number;
  workers: number;
  broker: number;
  /** Requests the clients sent the broker per request answered, by kind. */
  brokerRequests: Record<string, number>;
  /** Cores busy with anything else on the machine over the phase (the other engineer's work, this bench's parent). */
  othersCores: number;
}

const fixed = (digits: number) => (value: number) => (Number.isFinite(value) ? value.toFixed(digits) : "n/a");
const ms2 = fixed(2);
const ms3 = fixed(3);

function pool(client: ClientName, phase: string, measures: PhaseMeasure[]): Pooled {
  const latencies = measures.flatMap((measure) => measure.latencies);
  const requests = latencies.length;
  const sum = (pick: (measure: PhaseMeasure) => number) =>
    measures.reduce((total, measure) => total + pick(measure), 0);
  const seconds = sum((measure) => measure.seconds);
  const brokerRequests: Record<string, number> = {};
  for (const measure of measures)
    for (const [kind, count] of Object.entries(measure.brokerRequests))
      brokerRequests[kind] = (brokerRequests[kind] ?? 0) + count / requests;
  const ours = sum((measure) => measure.cpuMs.ingress + measure.cpuMs.workers + measure.cpuMs.broker);
  return {
    client,
    phase,
    requests,
    errors: sum((measure) => measure.errors),
    perSecond: requests / seconds,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    p999: quantile(latencies, 0.999),
    ingress: sum((measure) => measure.cpuMs.ingress) / requests,
    workers: sum((measure) => measure.cpuMs.workers) / requests,
    broker: sum((measure) => measure.cpuMs.broker) / requests,
    brokerRequests,
    // Counted in 10 ms ticks on both sides: an idle machine can come out a hair below zero.
    othersCores: Math.max(0, (sum((measure) => measure.machineBusyMs) - ours) / seconds / 1000),
  };
}

function pooledRows(run: KafkaClientsRun, byRound: boolean): Array<Pooled & { round?: number }> {
  const rows: Array<Pooled & { round?: number }> = [];
  for (const phase of run.options.phases)
    for (const client of run.options.clients) {
      const trials = run.trials.filter((trial) => trial.client === client);
      const measuresOf = (trial: TrialResult) =>
        trial.phases.filter((measure) => measure.phase.name === phase.name);
      if (byRound)
        for (const trial of trials)
          rows.push({ ...pool(client, phase.name, measuresOf(trial)), round: trial.round });
      else rows.push(pool(client, phase.name, trials.flatMap(measuresOf)));
    }
  return rows.filter((row) => row.requests > 0);
}

const header =
  "| phase | client | requests/s | round trip p50 (ms) | p99 (ms) | p99.9 (ms) | client CPU/request (ms): ingress + workers = total | broker CPU/request (ms) | broker requests/request | others' load (cores) |";

function tableRow(row: Pooled & { round?: number }): string {
  const requestsPer = Object.values(row.brokerRequests).reduce((a, b) => a + b, 0);
  const label = row.round === undefined ? row.client : `${row.client} (round ${row.round})`;
  return `| ${row.phase} | ${label} | ${row.perSecond.toFixed(0)} | ${ms2(row.p50)} | ${ms2(row.p99)} | ${ms2(row.p999)} | ${ms3(row.ingress)} + ${ms3(row.workers)} = **${ms3(row.ingress + row.workers)}** | **${ms3(row.broker)}** | ${requestsPer.toFixed(2)} | ${row.othersCores.toFixed(2)} |`;
}

function requestKinds(rows: Pooled[]): string[] {
  const kinds = [...new Set(rows.flatMap((row) => Object.keys(row.brokerRequests)))].sort();
  return [
    `| phase | client | ${kinds.join(" | ")} |`,
    `|---|---|${kinds.map(() => "---:").join("|")}|`,
    ...rows.map(
      (row) =>
        `| ${row.phase} | ${row.client} | ${kinds.map((kind) => ((row.brokerRequests[kind] ?? 0) * 1000).toFixed(0)).join(" | ")} |`,
    ),
  ];
}

/** The report: setup, the pooled table, each round, the broker requests by kind, failures. */
export function renderKafkaClients(run: KafkaClientsRun): string {
  const { options } = run;
  const pooled = pooledRows(run, false);
  const rounds = pooledRows(run, true);
  const separator = `|---|---|${"---:|".repeat(8)}`;
  const failures = run.trials.flatMap((trial) =>
    trial.phases
      .filter((measure) => measure.errors > 0)
      .map(
        (measure) =>
          `- ${trial.client}, round ${trial.round}, ${measure.phase.name}: ${measure.errors} requests lost (first: ${measure.firstError})`,
      ),
  );
  const cpu = cpus();
  return [
    `Measured ${run.startedAt.toISOString().slice(0, 16).replace("T", " ")} UTC with \`${run.command}\` (${run.seconds} s), on ${cpu.length} × ${cpu[0]?.model ?? "unknown CPU"}, ${Math.round(totalmem() / 2 ** 30)} GB, shared: load average ${run.loadAtStart.map((value) => value.toFixed(2)).join(" / ")} at the start; the last column is what else ran during each phase.`,
    `Versions: ${Object.entries(run.versions)
      .map(([name, version]) => `${name} ${version}`)
      .join(", ")}. The broker alone, idle: ${run.brokerIdleCores.toFixed(3)} cores.`,
    "",
    `Setup: one Kafka broker (single KRaft node, local-services/kafka.ts); per client and round, topics of its own: 3 request topics × ${options.partitions} partitions and a reply topic of ${options.partitions}. One ingress process publishes requests (1 KB, keyed by id, the 3 topics in turn, sends of one event-loop turn in one produce call, acks from all in-sync replicas) and consumes the replies; two worker processes in one consumer group over the 3 request topics answer each request at once with a 300 B reply (same batching) and commit answered offsets every 200 ms. Round trip: a request's due time to its reply consumed by the ingress. CPU: utime + stime from /proc over the phase, ÷ requests answered. Broker requests are counted in the clients (kafkajs's REQUEST events, @platformatic/kafka's connections:api channel). ${options.rounds} rounds after an unmeasured one (${options.brokerWarmup.durationMs / 1000} s a client at ${options.brokerWarmup.kind === "rate" ? options.brokerWarmup.rate : "?"}/s, for the broker's JIT), the clients' order reversed in every other round; each client's phases after a ${options.warmup.durationMs / 1000} s warm-up at ${options.phases[0]?.kind === "rate" ? options.phases[0].rate : "?"}/s; rate phases ${(options.phases[0]?.durationMs ?? 0) / 1000} s open loop, the last phase ${(options.phases.at(-1)?.durationMs ?? 0) / 1000} s closed loop.`,
    "",
    `Pooled over the rounds (latencies merged; CPU summed ÷ requests summed):`,
    "",
    header,
    separator,
    ...pooled.map(tableRow),
    "",
    "Each round:",
    "",
    header,
    separator,
    ...rounds.map(tableRow),
    "",
    "Broker requests per 1,000 requests answered, by kind (all three client processes):",
    "",
    ...requestKinds(pooled),
    ...(failures.length > 0 ? ["", "Lost requests:", "", ...failures] : []),
  ].join("\n");
}
