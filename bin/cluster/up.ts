import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startEmbeddedClickHouse } from "../../analytics/clickhouse/embedded-server.ts";
import { sha256Hex } from "../../analytics/reader/access.ts";
import type { GatewayConfig } from "../../config/schema.ts";
import {
  announceGeneratedKey,
  keepGeneratedKey,
  makesItsOwnKey,
  newGatewayKey,
} from "../../governance/keys/generated-key.ts";
import { startLocalKafka } from "../../local-services/kafka.ts";
import { startLocalRedis } from "../../local-services/redis.ts";
import { renderBanner } from "../../runtime/banner.ts";
import { startChildProcessService } from "../../runtime/child-process-service.ts";
import { freePort } from "../../runtime/free-port.ts";
import { answersOk } from "../../runtime/http-probe.ts";
import { defaultGatewayUrl, UsageError } from "../cli-kit.ts";
import { loadConfigOrSayWhy } from "../configuration.ts";
import { missingPrerequisites } from "./prerequisites.ts";
import {
  type ClusterRole,
  type ClusterState,
  clusterRoles,
  isAlive,
  logFile,
  processRecord,
  type RoleRecord,
  readState,
  roleName,
  type ServiceName,
  type ServiceRecord,
  serviceNames,
  writeState,
} from "./state.ts";
import { probeCluster, statusTable } from "./status.ts";

/** The first ingress's port when neither --port nor the configuration names one. */
const defaultIngressPort = 8080;
const gatewayBin = fileURLToPath(new URL("../gateway.ts", import.meta.url));
/** Loading the gateway's modules and connecting to Kafka takes seconds, longer on a busy machine. */
const roleStartTimeoutMs = 180_000;

export async function upCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ingress: { type: "string", default: "1" },
      workers: { type: "string", default: "1" },
      sinks: { type: "string", default: "1" },
      port: { type: "string" },
      dir: { type: "string", default: "./data/cluster" },
    },
  });
  const counts: Record<ClusterRole, number> = {
    ingress: count("--ingress", values.ingress),
    worker: count("--workers", values.workers),
    sink: count("--sinks", values.sinks),
    batch: 1,
  };
  const portOption = values.port === undefined ? undefined : count("--port", values.port);
  const missing = missingPrerequisites();
  if (missing) {
    process.stderr.write(`error: ${missing}\n`);
    return 1;
  }
  const loaded = await loadConfigOrSayWhy();
  if (!loaded) return 2;
  const { config } = loaded;
  // Where the configuration says (server.port, $PORT); its 0, any free port, cannot be counted up from.
  const port = portOption ?? (config.server.port || defaultIngressPort);
  const dir = resolve(values.dir);
  mkdirSync(join(dir, "logs"), { recursive: true });
  const state: ClusterState = readState(dir) ?? {
    shutdownGraceMs: config.server.shutdownGraceMs,
    readerPassword: config.analytics.query.password || randomBytes(24).toString("base64url"),
    services: {},
    roles: [],
  };
  state.shutdownGraceMs = config.server.shutdownGraceMs;
  const started: string[] = [];
  let announcement = "";
  try {
    await startServices(dir, state, config, started);
    announcement = generatedKeyAnnouncement(config, dir, port);
    await startRoles(dir, state, counts, port, started);
  } catch (error) {
    process.stderr.write(
      `error: ${(error as Error).message}\n` +
        `What did start keeps running: \`npx ai-gateway cluster status --dir ${dir}\` shows it, ` +
        `\`npx ai-gateway cluster down --dir ${dir}\` stops it.\n`,
    );
    return 1;
  }
  const heading =
    started.length === 0 ? `The cluster in ${dir} is already up.` : `Started ${started.join(", ")}.`;
  // A cluster already up keeps the port it was started on.
  const ingress = state.roles.find((record) => record.role === "ingress" && record.index === 1);
  const url = `http://127.0.0.1:${ingress?.port ?? port}`;
  process.stdout.write(
    `${heading}\n\n${statusTable(await probeCluster(state))}\n` +
      `Logs: ${dir}/logs/<role>.log. Stop it with \`npx ai-gateway cluster down --dir ${dir}\`.\n` +
      (url === defaultGatewayUrl
        ? ""
        : `The keys and batch commands reach this ingress with GATEWAY_URL=${url} (or --url).\n`),
  );
  if (announcement) process.stderr.write(`${announcement}\n`);
  return 0;
}

function count(option: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw new UsageError(`${option} takes a whole number from 1, got "${text}"`);
  return value;
}

/** Kafka, Redis and ClickHouse, each started unless its recorded process still runs; data under `dir`. */
async function startServices(dir: string, state: ClusterState, config: GatewayConfig, started: string[]) {
  const starters: Record<ServiceName, (log: string, previous?: ServiceRecord) => Promise<ServiceRecord>> = {
    kafka: async (log, previous) => {
      const kafka = await startLocalKafka(serviceDir(dir, "kafka"), {
        logFile: log,
        ports: previous?.controllerPort
          ? { broker: previous.port, controller: previous.controllerPort }
          : undefined,
      });
      const address = kafka.endpoint.brokers.join(",");
      return {
        ...processRecord(kafka.pid, log),
        address,
        port: kafka.ports.broker,
        controllerPort: kafka.ports.controller,
      };
    },
    redis: async (log, previous) => {
      const redis = await startLocalRedis(serviceDir(dir, "redis"), { logFile: log, port: previous?.port });
      return {
        ...processRecord(redis.pid, log),
        address: redis.endpoint.url,
        port: Number(new URL(redis.endpoint.url).port),
      };
    },
    clickhouse: async (log, previous) => {
      const clickhouse = await startEmbeddedClickHouse({
        dataDir: serviceDir(dir, "clickhouse"),
        port: previous?.port,
        logFile: log,
        reader: {
          database: config.clickhouse.database,
          options: config.analytics.query,
          passwordSha256: sha256Hex(state.readerPassword),
        },
      });
      return {
        ...processRecord(clickhouse.pid, log),
        address: clickhouse.url,
        port: Number(new URL(clickhouse.url).port),
      };
    },
  };
  const outcomes = await Promise.allSettled(
    serviceNames.map(async (name) => {
      const previous = state.services[name];
      if (previous && isAlive(previous)) return;
      state.services[name] = await starters[name](logFile(dir, name), previous);
      writeState(dir, state);
      started.push(name);
    }),
  );
  const failures = outcomes.flatMap((outcome) =>
    outcome.status === "rejected" ? [(outcome.reason as Error).message] : [],
  );
  if (failures.length > 0) throw new Error(failures.join("\n"));
}

function serviceDir(dir: string, name: string): string {
  const path = join(dir, name);
  mkdirSync(path, { recursive: true });
  return path;
}

/**
 * With no key configured, every ingress must accept the same generated key: it is made here, once,
 * before they start (they read its hash from the cluster's data dir), and shown once.
 */
function generatedKeyAnnouncement(config: GatewayConfig, dir: string, port: number): string {
  const file = join(gatewayDataDir(dir), "gateway-key.sha256");
  if (!makesItsOwnKey(config.auth) || existsSync(file)) return "";
  const key = newGatewayKey();
  keepGeneratedKey(file, key);
  return renderBanner(announceGeneratedKey(key, file, `http://127.0.0.1:${port}`), "pretty");
}

const gatewayDataDir = (dir: string) => join(dir, "gateway");

/** The gateway processes not running yet, in parallel: ingress on `port`, `port`+1, …; the others on free ports. */
async function startRoles(
  dir: string,
  state: ClusterState,
  counts: Record<ClusterRole, number>,
  port: number,
  started: string[],
) {
  const planned = clusterRoles.flatMap((role) =>
    Array.from({ length: counts[role] }, (_, offset) => ({ role, index: offset + 1 })),
  );
  const outcomes = await Promise.allSettled(
    planned.map(async ({ role, index }) => {
      const previous = state.roles.find((record) => record.role === role && record.index === index);
      if (previous && isAlive(previous)) return;
      const rolePort = role === "ingress" ? port + index - 1 : (previous?.port ?? (await freePort()));
      const record = await startRole(dir, state, role, index, rolePort);
      state.roles = [...state.roles.filter((other) => other !== previous), record];
      writeState(dir, state);
      started.push(roleName(record));
    }),
  );
  const failures = outcomes.flatMap((outcome) =>
    outcome.status === "rejected" ? [(outcome.reason as Error).message] : [],
  );
  if (failures.length > 0) throw new Error(failures.join("\n"));
}

async function startRole(
  dir: string,
  state: ClusterState,
  role: ClusterRole,
  index: number,
  port: number,
): Promise<RoleRecord> {
  const { kafka, redis, clickhouse } = state.services as Required<ClusterState["services"]>;
  const log = logFile(dir, roleName({ role, index }));
  const service = await startChildProcessService({
    name: roleName({ role, index }),
    command: process.execPath,
    // tsx resolved from here: the user's working directory may not have it.
    args: ["--import", import.meta.resolve("tsx"), gatewayBin, "start", "--role", role],
    // The user's environment (GATEWAY_CONFIG, the master key, provider keys) with the cluster's services.
    env: {
      ...process.env,
      HOST: "127.0.0.1",
      PORT: String(port),
      KAFKA_BROKERS: kafka.address,
      REDIS_URL: redis.address,
      CLICKHOUSE_URL: clickhouse.address,
      CLICKHOUSE_READER_PASSWORD: state.readerPassword,
      GATEWAY_DATA_DIR: gatewayDataDir(dir),
    },
    isReady: () => answersOk(`http://127.0.0.1:${port}/readyz`),
    startTimeoutMs: roleStartTimeoutMs,
    stopWith: "terminate",
    logFile: log,
  });
  return { ...processRecord(service.pid, log), role, index, port };
}
