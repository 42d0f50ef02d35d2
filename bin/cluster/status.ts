import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { answersOk } from "../../runtime/http-probe.ts";
import { table } from "../output.ts";
import {
  type ClusterState,
  clusterRoles,
  isAlive,
  readState,
  roleName,
  type ServiceName,
  serviceNames,
  stateFile,
} from "./state.ts";

export interface ServiceStatus {
  name: ServiceName;
  pid: number;
  address: string;
  port: number;
  running: boolean;
  answers: boolean;
}

export interface RoleStatus {
  name: string;
  role: string;
  pid: number;
  port: number;
  running: boolean;
  ready: boolean;
  /** A worker's Kafka lag (requests not yet committed, every priority); null where there is none. */
  lag: number | null;
  log: string;
}

export interface ClusterStatus {
  services: ServiceStatus[];
  roles: RoleStatus[];
}

/** Every recorded process, asked whether it runs and answers; the workers for their Kafka lag. */
export async function probeCluster(state: ClusterState): Promise<ClusterStatus> {
  const services = await Promise.all(
    serviceNames.flatMap((name) => {
      const record = state.services[name];
      if (!record) return [];
      return [
        (async (): Promise<ServiceStatus> => {
          const running = isAlive(record);
          return {
            name,
            pid: record.pid,
            address: record.address,
            port: record.port,
            running,
            answers: running && (await serviceAnswers(name, record.port)),
          };
        })(),
      ];
    }),
  );
  const inOrder = [...state.roles].sort(
    (a, b) => clusterRoles.indexOf(a.role) - clusterRoles.indexOf(b.role) || a.index - b.index,
  );
  const roles = await Promise.all(
    inOrder.map(async (record): Promise<RoleStatus> => {
      const running = isAlive(record);
      const base = `http://127.0.0.1:${record.port}`;
      const [ready, lag] = running
        ? await Promise.all([
            answersOk(`${base}/readyz`, 2_000),
            record.role === "worker" ? requestLag(base) : Promise.resolve(null),
          ])
        : [false, null];
      return {
        name: roleName(record),
        role: record.role,
        pid: record.pid,
        port: record.port,
        running,
        ready,
        lag,
        log: record.logFile,
      };
    }),
  );
  return { services, roles };
}

/** The lag a worker reports on /metrics (gateway_kafka_request_lag, summed over priorities). */
async function requestLag(base: string): Promise<number | null> {
  try {
    const response = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(5_000) });
    if (!response.ok) return null;
    const samples = [...(await response.text()).matchAll(/^gateway_kafka_request_lag\{[^}]*\} (\S+)$/gm)];
    if (samples.length === 0) return null;
    return samples.reduce((sum, sample) => sum + Number(sample[1]), 0);
  } catch {
    return null;
  }
}

async function serviceAnswers(name: ServiceName, port: number): Promise<boolean> {
  // Loaded only here: kafkajs takes a while to load, and `status` asks Kafka only when it runs.
  if (name === "kafka") {
    const { brokerAnswers } = await import("../../local-services/kafka.ts");
    return brokerAnswers([`127.0.0.1:${port}`]).catch(() => false);
  }
  if (name === "redis") {
    const { answersPong } = await import("../../local-services/redis.ts");
    return answersPong(port);
  }
  return answersOk(`http://127.0.0.1:${port}/ping`);
}

/** The status as the table `up` and `status` print. */
export function statusTable({ services, roles }: ClusterStatus): string {
  const yesNo = (value: boolean) => (value ? "yes" : "no");
  const serviceRows = services.map((service) => [
    service.name,
    String(service.pid),
    `127.0.0.1:${service.port}`,
    service.running ? yesNo(service.answers) : "not running",
    "",
  ]);
  const roleRows = roles.map((role) => [
    role.name,
    String(role.pid),
    `127.0.0.1:${role.port}`,
    role.running ? yesNo(role.ready) : "not running",
    role.lag === null ? "" : String(role.lag),
  ]);
  return table([["role", "pid", "address", "ready", "lag"], ...roleRows, ...serviceRows]);
}

export async function statusCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { dir: { type: "string", default: "./data/cluster" }, json: { type: "boolean" } },
  });
  const dir = resolve(values.dir);
  const state = readState(dir);
  if (!state) {
    if (values.json) process.stdout.write(`${JSON.stringify({ up: false, services: [], roles: [] })}\n`);
    else
      process.stdout.write(`no cluster is running from ${dir} (\`npx ai-gateway cluster up\` starts one)\n`);
    return 1;
  }
  const status = await probeCluster(state);
  const up = [...status.roles.map((role) => role.ready), ...status.services.map((s) => s.answers)].every(
    Boolean,
  );
  if (values.json) process.stdout.write(`${JSON.stringify({ up, ...status }, null, 2)}\n`);
  else
    process.stdout.write(`${statusTable(status)}\nstate: ${stateFile(dir)}; logs: ${dir}/logs/<name>.log\n`);
  return up ? 0 : 1;
}
