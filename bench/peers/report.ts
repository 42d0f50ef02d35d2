import { cpus, totalmem } from "node:os";
import { ms } from "../stats.ts";
import { addedFigures, type FigureName, type Figures, failures, ownFigures } from "./figures.ts";
import type { TargetRound } from "./measure.ts";
import type { PeersOptions, Runtime, TargetKind } from "./options.ts";

/** One column of the report: a target under one runtime (the direct baseline has none), with its rounds. */
export interface Column {
  kind: TargetKind;
  runtime?: Runtime;
  label: string;
  /** Its name in a ratio's header: "embedded", "Kafka". */
  shortName: string;
  /** By round (1, 2, …); a round whose target did not start is missing. */
  rounds: Array<TargetRound & { round: number }>;
  /** Why it could not be measured in some round. */
  startFailures: string[];
}

export interface PeersRun {
  options: PeersOptions;
  columns: Column[];
  command: string;
  startedAt: Date;
  loadAtStart: number[];
  seconds: number;
  services?: string;
}

/** A latency with no sample: every call of its phase failed (the notes say how). */
const latency = (value: number) => (Number.isNaN(value) ? "failed" : ms(value));

const rows: Array<{ name: string; figure: FigureName; format: (value: number) => string }> = [
  { name: "non-streaming, added p50, closed loop (ms)", figure: "closedP50", format: latency },
  { name: "non-streaming, added p99, closed loop (ms)", figure: "closedP99", format: latency },
  { name: "non-streaming, added p50, open loop (ms)", figure: "openP50", format: latency },
  { name: "non-streaming, added p99, open loop (ms)", figure: "openP99", format: latency },
  { name: "CPU per request, the gateway's own processes (ms)", figure: "cpuOwn", format: ms },
  { name: "CPU per request, with its ClickHouse, Kafka, Redis (ms)", figure: "cpuAll", format: ms },
  { name: "most requests/s, 50 connections", figure: "mostPerSecond", format: (value) => value.toFixed(0) },
  { name: "streaming, added time to first token p50 (ms)", figure: "streamP50", format: latency },
  { name: "streaming, added time to first token p99 (ms)", figure: "streamP99", format: latency },
];

const ratio = (ours: number, theirs: number) =>
  Number.isFinite(ours) && Number.isFinite(theirs) && theirs > 0 ? `${(ours / theirs).toFixed(2)}×` : "n/a";

/** The report: setup, the table (one column a target, then ours / Portkey), each round, failures. */
export function renderPeers(run: PeersRun): string {
  const measured = run.columns.filter((column) => column.rounds.length > 0);
  const direct = measured.find((column) => column.kind === "direct");
  if (!direct) throw new Error("the direct baseline was not measured");
  const baseline = ownFigures(direct.rounds);
  const figuresOf = (column: Column) =>
    column === direct ? baseline : addedFigures(ownFigures(column.rounds), baseline);
  const ratios = run.options.runtimes.flatMap((runtime) => {
    const portkey = measured.find((column) => column.kind === "portkey" && column.runtime === runtime);
    if (!portkey) return [];
    return measured
      .filter((column) => column.runtime === runtime && column.kind !== "portkey")
      .map((ours) => ({ label: `${ours.shortName} / Portkey, ${runtime.label}`, ours, portkey }));
  });
  const header = [...measured.map((column) => column.label), ...ratios.map((each) => each.label)];
  const table = rows.map((row) => {
    const cells = measured.map((column) => row.format(figuresOf(column)[row.figure]));
    const ratioCells = ratios.map((each) =>
      ratio(figuresOf(each.ours)[row.figure], figuresOf(each.portkey)[row.figure]),
    );
    return `| ${row.name} | ${[...cells, ...ratioCells].join(" | ")} |`;
  });
  return [
    setup(run),
    "",
    `| at ${run.options.rate} requests/s | ${header.join(" | ")} |`,
    `| --- | ${header.map(() => "---").join(" | ")} |`,
    ...table,
    "",
    "The direct column is the upstream's own figures (latency, its CPU per request, requests/s); every other latency is what the target added to them, its samples from all rounds pooled before taking the percentile (a negative one: the baseline's own tail was the worse, a stall of the machine during its phase). CPU and requests/s: the mean of the rounds. Ratios: ours divided by Portkey's under the same Node; below 1× is less added latency or CPU, above 1× more requests/s.",
    "",
    ...failureNotes(run.columns),
    ...byRound(run, direct),
  ].join("\n");
}

function setup(run: PeersRun): string {
  const { options } = run;
  const seconds = (durationMs: number) => `${durationMs / 1000} s`;
  return [
    `Measured ${run.startedAt.toISOString().slice(0, 16).replace("T", " ")} UTC by \`${run.command}\` (${run.seconds} s), the bench on Node ${process.version.slice(1)}, the gateways under ${options.runtimes.map((runtime) => `Node ${runtime.version}`).join(" and ")}; ${cpus().length} cores (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB, load average ${run.loadAtStart.map((load) => load.toFixed(2)).join(" / ")} (1 / 5 / 15 min) at the start.`,
    "",
    `All on this one machine: the upstream (bench/emulator.ts, an OpenAI emulator that answers at once, in its own process), the load generator (the bench's process)${run.services ? `, ${run.services}` : ""}, and one target at a time, each in child processes of its own:`,
    "",
    "- **Portkey**: @portkey-ai/gateway 1.15.2 from npm, its `build/start-server.js --headless`, NODE_ENV=production; each call names the upstream with `x-portkey-provider: openai` and `x-portkey-custom-host`.",
    "- **ours, embedded**: `ai-gateway start` on its defaults: in-process bus, an embedded ClickHouse (a child process: in the second CPU row).",
    "- **ours, Kafka**: 1 ingress, 2 workers and the sink, each `ai-gateway start --role …`, on real Kafka, Redis and ClickHouse (in the second CPU row); on @platformatic/kafka, the default client, and, where named so, with `kafka.client: kafkajs`.",
    "- **the design's floor** (bench/peers/floor/): only what every gateway of this design must do — a fastify ingress that publishes each call, as bytes, on Kafka (@platformatic/kafka), two workers that make it on the upstream and send the answer back over Redis pub/sub, offsets committed every 200 ms; no key, routing, claim, event, analytics or Avro. Kafka and Redis in its second CPU row. Not a gateway: the least a gateway on Kafka and Redis can add.",
    "",
    ...(options.targets.some((kind) => kind.startsWith("kafka"))
      ? [
          `Before the first round the Kafka path ran ${seconds(options.brokerWarmupMs)} unmeasured at ${options.rate} requests/s: the broker's JVM compiles its hot paths in its first minute of load, which would otherwise be charged to the first Kafka round.`,
          "",
        ]
      : []),
    `${options.rounds} rounds over the targets, every other one in reverse order, each target started afresh for its round. Per target and round, after a warm-up: ${seconds(options.phaseMs)} closed loop (autocannon, ${options.connections} connections, at most ${options.rate} requests/s over all; autocannon lets each connection send its share of a second back to back, so every second opens with ${options.connections} requests at once), ${seconds(options.phaseMs)} open loop (a request due every ${1000 / options.rate} ms whatever the answers, its latency from the due time), CPU summed over those two phases; then ${seconds(options.phaseMs)} of streams, open loop (time to the first content chunk), and ${seconds(options.mostMs)} unthrottled at ${options.mostConnections} connections.`,
  ].join("\n");
}

function failureNotes(columns: Column[]): string[] {
  const notes = columns.flatMap((column) =>
    [...column.startFailures.map((failure) => `did not start: ${failure}`), ...failures(column.rounds)].map(
      (note) => `- ${column.label}: ${note}`,
    ),
  );
  return notes.length > 0 ? ["Failures:", "", ...notes, ""] : ["No call failed.", ""];
}

/** Each round on its own, against that round's direct baseline: how far apart the two are is the noise. */
function byRound(run: PeersRun, direct: Column): string[] {
  const lines = run.columns
    .flatMap((column) =>
      column.rounds.map((round) => {
        const baseline = direct.rounds.find((each) => each.round === round.round);
        if (!baseline) return "";
        // The direct rows give the upstream's own figures, to show how the machine drifted.
        const own = ownFigures([round]);
        const shown: Figures = column === direct ? own : addedFigures(own, ownFigures([baseline]));
        return `| ${column.label} | ${round.round} | ${latency(shown.closedP50)} / ${latency(shown.closedP99)} | ${latency(shown.openP50)} / ${latency(shown.openP99)} | ${ms(shown.cpuOwn)} / ${ms(shown.cpuAll)} | ${shown.mostPerSecond.toFixed(0)} | ${latency(shown.streamP50)} / ${latency(shown.streamP99)} |`;
      }),
    )
    .filter(Boolean);
  return [
    "Each round against its own direct baseline (added ms, p50 / p99; the direct rows: the upstream's own):",
    "",
    "| target | round | closed loop | open loop | CPU ms per request: own / all | most requests/s | time to first token |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...lines,
  ];
}
