#!/usr/bin/env -S node --import tsx
import { parseArgs } from "node:util";
import { ConfigError, loadConfig } from "../config/load.ts";
import { type Role, roles, startGateway } from "../runtime/gateway.ts";
import { createLogger } from "../runtime/logger.ts";
import { batchCommand } from "./batch/commands.ts";

const usage = `usage: ai-gateway <command>

commands:
  start [--role all|ingress|worker|sink|batch]
           start the gateway (configuration: GATEWAY_CONFIG, default ./gateway.yaml).
           all (default): every part in one process. Split across processes (Kafka and Redis
           connect them): ingress = the HTTP/WebSocket edge, worker = provider calls,
           sink = events into ClickHouse, batch = the coordinator of batch jobs.
  batch submit|status|cancel|list|results ...
           batch jobs on a running gateway (GATEWAY_URL, GATEWAY_API_KEY), e.g.
           ai-gateway batch submit requests.jsonl --watch --output results.jsonl
           (ai-gateway batch --help for each command and its options).
`;

async function main(argv: string[]): Promise<number> {
  // The batch commands have options of their own, so they parse their arguments themselves.
  if (argv[0] === "batch") return batchCommand(argv.slice(1));
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
  if (command === "start") {
    const role = values.role as Role;
    if (!roles.includes(role)) {
      process.stderr.write(`--role must be one of ${roles.join(", ")}\n`);
      return 2;
    }
    return start(role);
  }
  process.stderr.write(`unknown command: ${command}\n${usage}`);
  return 2;
}

async function start(role: Role): Promise<number> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 2;
  }
  const log = createLogger(config.log);
  const gateway = await startGateway(config, log, role).catch((error: Error) => {
    log.fatal({ err: error }, "the gateway could not start");
    return undefined;
  });
  if (!gateway) return 1;
  log.info({ url: gateway.url, role }, "gateway ready");
  if (gateway.announcement) process.stderr.write(`${gateway.announcement}\n`);

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.warn({ signal }, "second signal: exiting without waiting");
        process.exit(130);
      }
      stopping = true;
      log.info({ signal, graceMs: config.server.shutdownGraceMs }, "shutting down");
      gateway.close().then(
        () => {
          log.info("stopped");
          resolve(0);
        },
        (error: Error) => {
          log.error({ err: error }, "shutdown failed");
          resolve(1);
        },
      );
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

process.exitCode = await main(process.argv.slice(2));
