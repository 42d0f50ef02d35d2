#!/usr/bin/env -S node --import tsx
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { commandGroups } from "./commands.ts";
import { start } from "./start.ts";

const header = `usage: npx ai-gateway <command> [options]     (each command: npx ai-gateway <command> --help)
       npx ai-gateway --version
`;

const runSection = `run a gateway:
  start [--role all|ingress|worker|sink|batch]
           start the gateway (configuration: GATEWAY_CONFIG, default ./gateway.yaml).
           all (default): every part in one process. Split across processes (Kafka and Redis
           connect them): ingress = the HTTP/WebSocket edge, worker = provider calls,
           sink = events into ClickHouse, batch = the coordinator of batch jobs.
  cluster up|status|down ...
           the distributed shape on this machine without Docker: Kafka, Redis, ClickHouse and
           N processes of each role, started in the background (npx ai-gateway cluster --help).
  config [--json]
           the configuration start would use, secrets hidden, with where each value came
           from: default, file or environment variable.
  reset-key
           a new generated key, printed once, in place of a lost one (with no keys configured,
           the first start makes one and keeps only its hash); the gateway takes it at its next start.
  dead-letters list|show|replay ...
           Kafka messages the gateway could not decode, kept in its dead-letter topic: list them,
           show one, put them back on their topics once the gateway can read them
           (configuration as for start).
`;

const clientSection = `talk to a running gateway (GATEWAY_URL, default http://127.0.0.1:8080, or --url):
  batch submit|status|cancel|list|results ...
           batch jobs, with a caller's key (GATEWAY_KEY or --key), e.g.
           npx ai-gateway batch submit requests.jsonl --watch --output results.jsonl
  keys create|list|show|update|rotate|revoke ...
  teams create|list|show|update|delete ...
           virtual keys and teams through the admin API, with the master key (GATEWAY_MASTER_KEY
           or --admin-key), e.g.
           npx ai-gateway teams create search --monthly-usd 500 --rpm 600
           npx ai-gateway keys create --team search --models 'gpt-4o*' --daily-usd 20
`;

const outputNote = `output: on a terminal, lists are tables; --json prints JSON for scripts. Piped or redirected,
keys and teams print JSON, batch list and dead-letters list their columns, as they always have.
`;

// One section per kind of command, a blank line between them; a new kind (the cluster commands)
// is a section of its own in this list.
const usage = [header, runSection, clientSection, outputNote].join("\n");
async function main(argv: string[]): Promise<number> {
  // These commands have options of their own, so they parse their arguments themselves.
  const group = argv[0] === undefined ? undefined : commandGroups[argv[0]];
  if (group && Object.hasOwn(commandGroups, argv[0] as string)) return group(argv.slice(1));
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      help: { type: "boolean" },
      version: { type: "boolean" },
      role: { type: "string", default: process.env.GATEWAY_ROLE ?? "all" },
    },
  });
  const command = positionals[0];
  if (values.version) {
    // The runtime too: the project brings its own Node, and a report should say which one ran.
    const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
    process.stdout.write(`ai-gateway ${version} (Node ${process.versions.node})\n`);
    return 0;
  }
  if (values.help || command === undefined) {
    process.stdout.write(usage);
    return command === undefined && !values.help ? 2 : 0;
  }
  // Stopped means exited: a client still retrying a service that is gone (kafkajs reconnecting to
  // a dead broker) must not keep the process alive after its shutdown ended.
  if (command === "start") process.exit(await start(values.role));
  process.stderr.write(`error: unknown command: ${command}\nsee: npx ai-gateway --help\n`);
  return 2;
}

process.exitCode = await main(process.argv.slice(2));
