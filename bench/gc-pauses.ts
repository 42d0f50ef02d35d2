import { cpus, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { benchProviderKey } from "./chat-call.ts";
import { cpuMsOf, cpuOfTrees } from "./cpu.ts";
import { closedLoop } from "./peers/closed-loop.ts";
import { startEmbedded } from "./peers/ours.ts";
import { parseSettingOverride } from "./settings-overrides.ts";
import { ms, quantile } from "./stats.ts";
import { spawnUpstream } from "./upstream.ts";

/**
 * `npm run bench:gc`: V8's garbage collections in the embedded gateway while it answers
 * bench:peers' closed loop (autocannon, 10 connections, at most 200 requests/s: each connection
 * sends its share of a second back to back), read from the gateway's own `--trace-gc-nvp` lines.
 * Each `--variant="FLAGS"` (with `=`: the flags start with dashes) runs the gateway with those Node flags as well (one column each, the
 * rounds interleaved), to weigh a setting of V8's against the tail it is meant to cut.
 *
 * `npm run bench:gc -- [--quick] [--rounds N] [--seconds N] [--connections N] [--variant="FLAGS"]... [--set a.b=value]...`
 */
const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    rounds: { type: "string" },
    seconds: { type: "string" },
    connections: { type: "string", default: "10" },
    variant: { type: "string", multiple: true, default: [] },
    set: { type: "string", multiple: true, default: [] },
  },
});
const rounds = Number(values.rounds ?? (values.quick ? 1 : 2));
const phaseMs = Number(values.seconds ?? (values.quick ? 5 : 15)) * 1000;
const warmupMs = values.quick ? 3000 : 10_000;
const load = { connections: Number(values.connections), rate: 200 };
const overrides = values.set.map(parseSettingOverride);
const variants = ["", ...values.variant];

/** One collection, from a `--trace-gc-nvp` line: its kind (s: scavenge, mms: minor mark-sweep, mc: mark-compact, …) and figures. */
interface Collection {
  kind: string;
  pauseMs: number;
  allocated: number;
  survived: number;
  promoted: number;
}

function parseCollection(line: string): Collection | undefined {
  const fields = new Map([...line.matchAll(/([\w.]+)=(\S+)/g)].map(([, name, value]) => [name, value]));
  const kind = fields.get("gc");
  if (kind === undefined) return undefined;
  const number = (name: string) => Number(fields.get(name) ?? 0);
  return {
    kind,
    pauseMs: number("pause"),
    allocated: number("allocated"),
    survived: number("new_space_survived"),
    promoted: number("promoted"),
  };
}

interface Round {
  latencies: number[];
  collections: Collection[];
  gatewayCpuMs: number;
  withClickHouseCpuMs: number;
}

const startedAt = new Date();
const loadAtStart = loadavg();
const upstream = await spawnUpstream(benchProviderKey);
const results = new Map<string, Round[]>(variants.map((variant) => [variant, []]));
try {
  for (let round = 1; round <= rounds; round++) {
    const order = round % 2 === 1 ? variants : [...variants].reverse();
    for (const variant of order) {
      process.stderr.write(`round ${round}/${rounds}: ${variant || "Node's defaults"}\n`);
      const flags = ["--trace-gc-nvp", ...variant.split(" ").filter(Boolean)];
      const target = await startEmbedded(process.execPath, upstream.url, overrides, flags);
      try {
        await closedLoop(target, { ...load, durationMs: warmupMs });
        const pid = target.gateway.child.pid as number;
        const seen = target.gateway.otherOutput.length;
        const cpuBefore = { gateway: cpuMsOf(pid), tree: cpuOfTrees([pid]) };
        const { latencies } = await closedLoop(target, { ...load, durationMs: phaseMs });
        results.get(variant)?.push({
          latencies,
          collections: target.gateway.otherOutput
            .slice(seen)
            .map(parseCollection)
            .filter((collection) => collection !== undefined),
          gatewayCpuMs: cpuMsOf(pid) - cpuBefore.gateway,
          withClickHouseCpuMs: cpuOfTrees([pid]) - cpuBefore.tree,
        });
      } finally {
        await target.stop();
      }
    }
  }
} finally {
  upstream.stop();
}
process.stdout.write(`${report()}\n`);

function report(): string {
  const columns = variants.map((variant) => ({
    label: variant || "Node's defaults",
    figures: figures(variant),
  }));
  const rows: Array<[string, (measured: ReturnType<typeof figures>) => string]> = [
    ["answered", (f) => String(f.answered)],
    ["latency p50 / p99 (ms)", (f) => `${ms(f.p50)} / ${ms(f.p99)}`],
    ["young-generation collections a round", (f) => (f.scavenges.length / rounds).toFixed(1)],
    ["their pause p50 / max (ms)", (f) => `${ms(f.scavengePauseP50)} / ${ms(f.scavengePauseMax)}`],
    ["their pauses, ms a second", (f) => ms(f.scavengeMsPerSecond)],
    ["survived / promoted at each (MB)", (f) => `${f.survivedMb.toFixed(1)} / ${f.promotedMb.toFixed(1)}`],
    ["allocated a request (KB)", (f) => f.allocatedKbPerRequest.toFixed(0)],
    [
      "mark-compacts a round, pause max (ms)",
      (f) => `${(f.markCompacts.length / rounds).toFixed(1)}, ${ms(f.markCompactMax)}`,
    ],
    [
      "CPU a request, gateway / with ClickHouse (ms)",
      (f) => `${ms(f.gatewayCpu)} / ${ms(f.withClickHouseCpu)}`,
    ],
  ];
  const seconds = Math.round((Date.now() - startedAt.getTime()) / 1000);
  const args = process.argv.slice(2);
  return [
    `Measured ${startedAt.toISOString().slice(0, 16).replace("T", " ")} UTC by \`npm run bench:gc${args.length > 0 ? ` -- ${args.join(" ")}` : ""}\` (${seconds} s) on ${cpus().length} cores (${cpus()[0]?.model.trim()}), Node ${process.version}; load average ${loadAtStart.map((value) => value.toFixed(2)).join(" / ")} at the start.`,
    "",
    `The embedded gateway (one process, its ClickHouse a child) in front of an instant upstream; per round and variant, ${warmupMs / 1000} s of warm-up, then ${phaseMs / 1000} s of closed loop (autocannon, ${load.connections} connections, at most ${load.rate} requests/s); ${rounds} round(s), every other one in reverse order. Latency is the whole call's, upstream included.`,
    "",
    `| | ${columns.map((column) => column.label).join(" | ")} |`,
    `| --- | ${columns.map(() => "---:").join(" | ")} |`,
    ...rows.map(
      ([name, format]) => `| ${name} | ${columns.map((column) => format(column.figures)).join(" | ")} |`,
    ),
  ].join("\n");
}

function figures(variant: string) {
  const measured = results.get(variant) ?? [];
  const latencies = measured.flatMap((round) => round.latencies);
  const collections = measured.flatMap((round) => round.collections);
  // A scavenge (s), or a minor mark-sweep (mms) under --minor-ms: the young generation's collections.
  const scavenges = collections.filter((collection) => collection.kind === "s" || collection.kind === "mms");
  const markCompacts = collections.filter((collection) => collection.kind === "mc");
  const sum = (items: Collection[], pick: (collection: Collection) => number) =>
    items.reduce((total, item) => total + pick(item), 0);
  const perScavenge = (pick: (collection: Collection) => number) =>
    scavenges.length === 0 ? 0 : sum(scavenges, pick) / scavenges.length / 1e6;
  const answered = latencies.length;
  const cpu = (pick: (round: Round) => number) =>
    measured.reduce((total, round) => total + pick(round), 0) / Math.max(1, answered);
  return {
    answered,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    scavenges,
    scavengePauseP50: quantile(
      scavenges.map((collection) => collection.pauseMs),
      0.5,
    ),
    scavengePauseMax: Math.max(0, ...scavenges.map((collection) => collection.pauseMs)),
    scavengeMsPerSecond: sum(scavenges, (collection) => collection.pauseMs) / ((rounds * phaseMs) / 1000),
    survivedMb: perScavenge((collection) => collection.survived),
    promotedMb: perScavenge((collection) => collection.promoted),
    allocatedKbPerRequest:
      sum(collections, (collection) => collection.allocated) / Math.max(1, answered) / 1024,
    markCompacts,
    markCompactMax: Math.max(0, ...markCompacts.map((collection) => collection.pauseMs)),
    gatewayCpu: cpu((round) => round.gatewayCpuMs),
    withClickHouseCpu: cpu((round) => round.withClickHouseCpuMs),
  };
}
