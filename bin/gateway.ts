#!/usr/bin/env -S node --import tsx
import { parseArgs } from "node:util";
import { batchCommand } from "./batch/commands.ts";
import { clusterCommand } from "./cluster/commands.ts";
import { configCommand } from "./config.ts";
import { deadLettersCommand } from "./dead-letters/commands.ts";
import { keysCommand, teamsCommand } from "./keys/commands.ts";
import { resetKeyCommand } from "./reset-key.ts";
import { start } from "./start.ts";

const usage = `usage: ai-gateway <command>

commands:
  start [--role all|ingress|worker|sink|batch]
           start the gateway (configuration: GATEWAY_CONFIG, default ./gateway.yaml).
           all (default): every part in one process. Split across processes (Kafka and Redis
           connect them): ingress = the HTTP/WebSocket edge, worker = provider calls,
           sink = events into ClickHouse, batch = the coordinator of batch jobs.
  cluster up|status|down ...
           the distributed shape on this machine without Docker: Kafka, Redis, ClickHouse and
           N processes of each role, started in the background (ai-gateway cluster --help).
  config [--json]
           the configuration start would use, secrets hidden, with where each value came
           from: default, file or environment variable (ai-gateway config --help lists them).
  reset-key
           a new generated key, printed once, in place of a lost one (with no keys configured,
           the first start makes one and keeps only its hash); the gateway takes it at its next start.
  batch submit|status|cancel|list|results ...
           batch jobs on a running gateway (GATEWAY_URL, GATEWAY_API_KEY), e.g.
           ai-gateway batch submit requests.jsonl --watch --output results.jsonl
           (ai-gateway batch --help for each command and its options).
  keys create|list|show|update|rotate|revoke ...
  teams create|list|show|update|delete ...
           virtual keys and teams through the admin API (GATEWAY_MASTER_KEY), e.g.
           ai-gateway teams create search --monthly-usd 500 --rpm 600
           ai-gateway keys create --team search --models 'gpt-4o*' --daily-usd 20
           (ai-gateway keys --help for every setting).
  dead-letters list|show|replay ...
           Kafka messages the gateway could not decode, kept in its dead-letter topic: list them,
           show one, put them back on their topics once the gateway can read them
           (configuration as for start; ai-gateway dead-letters --help).
`;

async function main(argv: string[]): Promise<number> {
  // These commands have options of their own, so they parse their arguments themselves.
  if (argv[0] === "config") return configCommand(argv.slice(1));
  if (argv[0] === "reset-key") return resetKeyCommand(argv.slice(1));
  if (argv[0] === "batch") return batchCommand(argv.slice(1));
  if (argv[0] === "cluster") return clusterCommand(argv.slice(1));
  if (argv[0] === "dead-letters") return deadLettersCommand(argv.slice(1));
  if (argv[0] === "keys") return keysCommand(argv.slice(1));
  if (argv[0] === "teams") return teamsCommand(argv.slice(1));
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      help: { type: "boolean" },
      role: { type: "string", default: process.env.GATEWAY_ROLE ?? "all" },
    },
  });
  const command = positionals[0];
  if (values.help || command === undefined) {
    process.stdout.write(usage);
    return command === undefined && !values.help ? 2 : 0;
  }
  // Stopped means exited: a client still retrying a service that is gone (kafkajs reconnecting to
  // a dead broker) must not keep the process alive after its shutdown ended.
  if (command === "start") process.exit(await start(values.role));
  process.stderr.write(`unknown command: ${command}\n${usage}`);
  return 2;
}

process.exitCode = await main(process.argv.slice(2));
