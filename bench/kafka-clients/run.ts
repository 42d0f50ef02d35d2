import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { startLocalKafka } from "../../local-services/kafka.ts";
import { cpuOfTrees } from "../cpu.ts";
import { writeGeneratedSection } from "../generated-section.ts";
import { parseKafkaClientsOptions } from "./options.ts";
import { renderKafkaClients } from "./report.ts";
import { createTopics, runTrial, type TrialResult, trialSetup } from "./trial.ts";

/**
 * `npm run bench:kafka-clients`: kafkajs against @platformatic/kafka on the request path's shape
 * (issue 20), each client in turn on the same broker. Prints the report and, unless `--quick`,
 * writes it into BENCHMARKS.md.
 */
const options = parseKafkaClientsOptions(process.argv.slice(2));
const startedAt = new Date();
const loadAtStart = loadavg();
const workDir = mkdtempSync(join(tmpdir(), "bench-kafka-clients-"));
const kafka = await startLocalKafka(workDir);
try {
  const { brokers } = kafka.endpoint;
  // Round 0 warms the broker up, unmeasured: its JIT made whichever client went first pay up to
  // four times the broker CPU per request of the same client a round later.
  const turns = Array.from({ length: options.rounds + 1 }, (_, round) => round).flatMap((round) =>
    // Every other round in reverse: a drift of the machine over the run weighs on both clients alike.
    (round % 2 === 1 ? options.clients : [...options.clients].reverse()).map((client) => ({
      round,
      setup: trialSetup(client, round, brokers),
    })),
  );
  await createTopics(
    brokers,
    turns.flatMap(({ setup }) => [...setup.requestTopics, setup.replyTopic]),
    options.partitions,
  );
  const brokerIdleCores = await idleCores(kafka.pid);
  const trials: TrialResult[] = [];
  for (const { round, setup } of turns) {
    process.stderr.write(`round ${round}/${options.rounds}: ${setup.client}\n`);
    const broker = { brokers, pid: kafka.pid };
    if (round === 0)
      await runTrial(setup, round, broker, { ...options, warmup: options.brokerWarmup, phases: [] });
    else trials.push(await runTrial(setup, round, broker, options));
  }
  const args = process.argv.slice(2);
  const report = renderKafkaClients({
    options,
    trials,
    command: `npm run bench:kafka-clients${args.length > 0 ? ` -- ${args.join(" ")}` : ""}`,
    startedAt,
    loadAtStart,
    seconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
    versions: versions(),
    brokerIdleCores,
  });
  process.stdout.write(`${report}\n`);
  if (!options.quick)
    writeGeneratedSection(
      "bench:kafka-clients",
      "## Kafka clients: kafkajs against @platformatic/kafka (issue 20)",
      report,
    );
} finally {
  await kafka.stop();
  rmSync(workDir, { recursive: true, force: true });
}

/** What the broker costs with no client at all, after its start has settled: the floor under its figures. */
async function idleCores(pid: number): Promise<number> {
  const idleMs = 5_000;
  await sleep(3_000);
  const before = cpuOfTrees([pid]);
  await sleep(idleMs);
  return (cpuOfTrees([pid]) - before) / idleMs;
}

function versions(): Record<string, string> {
  const packageVersion = (name: string) =>
    (
      JSON.parse(
        readFileSync(new URL(`../../node_modules/${name}/package.json`, import.meta.url), "utf8"),
      ) as { version: string }
    ).version;
  const pom = readFileSync(new URL("../../local-services/kafka/pom.xml", import.meta.url), "utf8");
  return {
    Node: process.versions.node,
    kafkajs: packageVersion("kafkajs"),
    "@platformatic/kafka": packageVersion("@platformatic/kafka"),
    "Kafka broker": /<artifactId>kafka_2\.13<\/artifactId>\s*<version>([^<]+)</.exec(pom)?.[1] ?? "unknown",
  };
}
