import { execFileSync } from "node:child_process";
import { realpathSync } from "node:fs";
import { parseArgs } from "node:util";
import { parseSettingOverride, type SettingOverride } from "../settings-overrides.ts";

/** `kafka-kafkajs`: ours on the Kafka path with `kafka.client: kafkajs`, beside the default client. */
export const targetKinds = ["direct", "portkey", "embedded", "kafka", "kafka-kafkajs", "floor"] as const;
export type TargetKind = (typeof targetKinds)[number];

/** A Node binary the gateways run under, and how the report names it. */
export interface Runtime {
  node: string;
  version: string;
  label: string;
}

export interface PeersOptions {
  quick: boolean;
  targets: TargetKind[];
  /** The bench's own Node first, then each `--node` given. */
  runtimes: Runtime[];
  rounds: number;
  /** Partitions of each gateway topic on the Kafka path. */
  partitions: number;
  /** Requests per second of the fixed-rate phases, over all connections. */
  rate: number;
  /** Connections of the rate-limited closed loop, and of the unthrottled one that finds the most requests/s. */
  connections: number;
  mostConnections: number;
  phaseMs: number;
  mostMs: number;
  warmupMs: number;
  /** Settings over ours (`--set path.to.option=value`, both shapes): an experiment, printed but not written. */
  overrides: SettingOverride[];
  /** Load through the Kafka path before the first round, unmeasured: the broker JVM's JIT warm-up. */
  brokerWarmupMs: number;
}

/** `npm run bench:peers -- [--quick] [--targets direct,portkey,embedded,kafka,kafka-kafkajs,floor] [--node PATH]... [--rounds N] [--set a.b=value]...` */
export function parsePeersOptions(argv: string[]): PeersOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: "boolean", default: false },
      targets: { type: "string", default: targetKinds.join(",") },
      node: { type: "string", multiple: true, default: [] },
      rounds: { type: "string", default: "2" },
      partitions: { type: "string", default: "12" },
      set: { type: "string", multiple: true, default: [] },
    },
  });
  const targets = values.targets.split(",").map((name) => name.trim());
  const unknown = targets.filter((name) => !(targetKinds as readonly string[]).includes(name));
  if (unknown.length > 0)
    throw new Error(`unknown targets ${unknown.join(", ")}: use ${targetKinds.join(",")}`);
  const quick = values.quick;
  const nodes = [...new Set([process.execPath, ...values.node].map((node) => realpathSync(node)))];
  const versions = nodes.map(nodeVersion);
  const majors = versions.map((version) => version.split(".")[0]);
  // Labels as short as tell the runtimes apart: "Node 20" unless two share a major version.
  const label = (index: number) =>
    `Node ${new Set(majors).size === majors.length ? majors[index] : versions[index]}`;
  return {
    quick,
    // The direct baseline is what every "added" figure subtracts: it is always measured.
    targets: targetKinds.filter((kind) => kind === "direct" || targets.includes(kind)),
    runtimes: nodes.map((node, index) => ({ node, version: versions[index] as string, label: label(index) })),
    rounds: Number(values.rounds),
    partitions: Number(values.partitions),
    overrides: values.set.map(parseSettingOverride),
    rate: 200,
    connections: 10,
    mostConnections: 50,
    phaseMs: quick ? 3_000 : 15_000,
    mostMs: quick ? 3_000 : 10_000,
    warmupMs: quick ? 1_000 : 4_000,
    brokerWarmupMs: quick ? 5_000 : 60_000,
  };
}

function nodeVersion(node: string): string {
  return execFileSync(node, ["--version"], { encoding: "utf8" }).trim().replace(/^v/, "");
}
