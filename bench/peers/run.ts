import { loadavg } from "node:os";
import { type ProvisionedServices, provisionServices } from "../../test/services/provision.ts";
import { benchProviderKey } from "../chat-call.ts";
import { descendantsMatching } from "../cpu.ts";
import { writeGeneratedSection } from "../generated-section.ts";
import { spawnUpstream, type Upstream } from "../upstream.ts";
import { startFloor } from "./floor/start.ts";
import { measureTarget, warmUp } from "./measure.ts";
import { type PeersOptions, parsePeersOptions } from "./options.ts";
import { startEmbedded, startOnKafka } from "./ours.ts";
import { startPortkey } from "./portkey.ts";
import { type Column, renderPeers } from "./report.ts";
import type { RunningTarget } from "./target.ts";

/**
 * `npm run bench:peers`: our gateway against the Portkey gateway, side by side on this machine in
 * front of the same instant upstream, with the upstream alone as the baseline. Prints the report
 * and, unless `--quick`, writes it into BENCHMARKS.md.
 */
const options = parsePeersOptions(process.argv.slice(2));
const startedAt = new Date();
const loadAtStart = loadavg();
const upstream = await spawnUpstream(benchProviderKey);
let services: ProvisionedServices | undefined;
try {
  const onKafka = options.targets.some((kind) => kind.startsWith("kafka") || kind === "floor");
  services = onKafka ? await provisionServices() : undefined;
  // Taken now, before any embedded gateway starts a ClickHouse of its own that would match too.
  const servicePids = services
    ? {
        all: descendantsMatching(/kafka\.Kafka |^redis-server|launch-embedded\.py/),
        kafkaAndRedis: descendantsMatching(/kafka\.Kafka |^redis-server/),
      }
    : { all: [], kafkaAndRedis: [] };
  const plans = planTargets(options, upstream, services, servicePids);
  if (services) await warmTheBroker(options, upstream, services);
  for (let round = 1; round <= options.rounds; round++) {
    // Every other round in reverse: a drift of the machine over the run weighs on all targets alike.
    const order = round % 2 === 1 ? plans : [...plans].reverse();
    for (const { column, start } of order) {
      process.stderr.write(`round ${round}/${options.rounds}: ${column.label}\n`);
      let target: RunningTarget;
      try {
        target = await start();
      } catch (error) {
        column.startFailures.push(`round ${round}: ${(error as Error).message.slice(0, 300)}`);
        continue;
      }
      try {
        column.rounds.push({ ...(await measureTarget(target, options)), round });
      } finally {
        await target.stop();
      }
    }
  }
  const args = process.argv.slice(2);
  const report = renderPeers({
    options,
    columns: plans.map((plan) => plan.column),
    command: `npm run bench:peers${args.length > 0 ? ` -- ${args.join(" ")}` : ""}`,
    startedAt,
    loadAtStart,
    seconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
    services: services
      ? `Kafka, Redis and ClickHouse for the Kafka path (${[...new Set(Object.values(services.endpoints.provenance))].join(" and ")})`
      : undefined,
  });
  process.stdout.write(`${report}\n`);
  if (!options.quick && options.overrides.length === 0)
    writeGeneratedSection("bench:peers", "## Against the Portkey gateway (`npm run bench:peers`)", report);
} finally {
  upstream.stop();
  await services?.stop();
}

/**
 * The Kafka path under load for a while, unmeasured, before any round: the broker's JVM compiles
 * its hot paths in its first minute of load, which would otherwise be charged to the first Kafka
 * round (its CPU per request fell from 1.9 to 0.9 ms over four 20 s phases at 200/s). A broker in
 * service has long been warm.
 */
async function warmTheBroker(options: PeersOptions, upstream: Upstream, services: ProvisionedServices) {
  process.stderr.write(`warming the broker: ${options.brokerWarmupMs / 1000} s on the Kafka path\n`);
  const runtime = options.runtimes[0] as PeersOptions["runtimes"][number];
  const target = await startOnKafka(
    runtime.node,
    upstream.url,
    services.endpoints,
    [],
    options.partitions,
    options.overrides,
  );
  try {
    await warmUp(target, options.rate, options.brokerWarmupMs);
  } finally {
    await target.stop();
  }
}

function planTargets(
  options: PeersOptions,
  upstream: Upstream,
  services: ProvisionedServices | undefined,
  servicePids: { all: number[]; kafkaAndRedis: number[] },
): Array<{ column: Column; start: () => Promise<RunningTarget> }> {
  const column = (
    kind: Column["kind"],
    label: string,
    shortName: string,
    runtime?: Column["runtime"],
  ): Column => ({
    kind,
    label,
    shortName,
    runtime,
    rounds: [],
    startFailures: [],
  });
  const direct = {
    column: column("direct", "direct", "direct"),
    start: async (): Promise<RunningTarget> => ({
      origin: new URL(upstream.url).origin,
      headers: { authorization: `Bearer ${benchProviderKey}` },
      pids: [upstream.pid],
      servicePids: [],
      stop: async () => {},
    }),
  };
  const gateways = options.runtimes.flatMap((runtime) => {
    const onKafka = (overrides: PeersOptions["overrides"]) =>
      startOnKafka(
        runtime.node,
        upstream.url,
        (services as ProvisionedServices).endpoints,
        servicePids.all,
        options.partitions,
        overrides,
      );
    const starters = {
      portkey: {
        name: "Portkey",
        shortName: "Portkey",
        start: () => startPortkey(runtime.node, upstream.url),
      },
      embedded: {
        name: "ours, embedded",
        shortName: "embedded",
        start: () => startEmbedded(runtime.node, upstream.url, options.overrides),
      },
      kafka: {
        name: "ours, Kafka",
        shortName: "Kafka",
        start: () => onKafka(options.overrides),
      },
      "kafka-kafkajs": {
        name: "ours, Kafka on kafkajs",
        shortName: "Kafka (kafkajs)",
        start: () => onKafka([...options.overrides, { path: ["kafka", "client"], value: "kafkajs" }]),
      },
      floor: {
        name: "the design's floor",
        shortName: "floor",
        start: () =>
          startFloor(
            upstream.url,
            (services as ProvisionedServices).endpoints,
            servicePids.kafkaAndRedis,
            options.partitions,
          ),
      },
    };
    return (
      options.targets
        // The floor's processes run on the bench's own Node, the first runtime.
        .filter((kind) => kind !== "direct" && (kind !== "floor" || runtime === options.runtimes[0]))
        .map((kind) => {
          const { name, shortName, start } = starters[kind as keyof typeof starters];
          return { column: column(kind, `${name}, ${runtime.label}`, shortName, runtime), start };
        })
    );
  });
  return [direct, ...gateways];
}
