import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Static, Type as T } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { isRunning, processStartTime } from "../../runtime/stop-process.ts";
import { Failure } from "../cli-kit.ts";

/** A process the cluster started: with its start time, so that a pid reused later is not taken for it. */
const ProcessRecord = T.Object({
  pid: T.Integer(),
  startTime: T.Optional(T.String()),
  logFile: T.String(),
});
export type ProcessRecord = Static<typeof ProcessRecord>;

export const serviceNames = ["kafka", "redis", "clickhouse"] as const;
export type ServiceName = (typeof serviceNames)[number];

const ServiceRecord = T.Composite([
  ProcessRecord,
  T.Object({
    /** Where clients reach it: host:port for Kafka, a URL for Redis and ClickHouse. */
    address: T.String(),
    port: T.Integer(),
    /** Kafka's controller listener. */
    controllerPort: T.Optional(T.Integer()),
  }),
]);
export type ServiceRecord = Static<typeof ServiceRecord>;

export const clusterRoles = ["ingress", "worker", "sink", "batch"] as const;
export type ClusterRole = (typeof clusterRoles)[number];

const RoleRecord = T.Composite([
  ProcessRecord,
  T.Object({
    role: T.Union(clusterRoles.map((role) => T.Literal(role))),
    /** 1, 2, …: its name is `<role>-<index>`, its log `logs/<role>-<index>.log`. */
    index: T.Integer({ minimum: 1 }),
    port: T.Integer(),
  }),
]);
export type RoleRecord = Static<typeof RoleRecord>;

const ClusterState = T.Object({
  /** The gateway processes' grace for in-flight work: `down` waits that long (and a margin) for each. */
  shutdownGraceMs: T.Integer({ minimum: 0 }),
  /** The password of ClickHouse's reader user (admin SQL), made when ClickHouse was started. */
  readerPassword: T.String(),
  services: T.Object({
    kafka: T.Optional(ServiceRecord),
    redis: T.Optional(ServiceRecord),
    clickhouse: T.Optional(ServiceRecord),
  }),
  roles: T.Array(RoleRecord),
});
export type ClusterState = Static<typeof ClusterState>;

export const stateFile = (dir: string) => join(dir, "cluster.json");
export const logFile = (dir: string, name: string) => join(dir, "logs", `${name}.log`);
export const roleName = (record: Pick<RoleRecord, "role" | "index">) => `${record.role}-${record.index}`;

/** The cluster recorded in `dir`, or undefined when none is (never started, or stopped). */
export function readState(dir: string): ClusterState | undefined {
  let text: string;
  try {
    text = readFileSync(stateFile(dir), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!Value.Check(ClusterState, parsed))
    throw new Failure(
      `${stateFile(dir)} is not a state file of ai-gateway cluster; move it away to start anew`,
    );
  return parsed;
}

/** Written whole after each start, so that a failed `up` leaves what `down` needs to stop what did start. */
export function writeState(dir: string, state: ClusterState): void {
  mkdirSync(dir, { recursive: true });
  const temporary = `${stateFile(dir)}.${process.pid}`;
  // It holds the ClickHouse reader's password: readable by its owner only.
  writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, stateFile(dir));
}

export function removeState(dir: string): void {
  rmSync(stateFile(dir), { force: true });
}

/** The record of a process just started by us. */
export function processRecord(pid: number, log: string): ProcessRecord {
  return { pid, startTime: processStartTime(pid), logFile: log };
}

/** True while the recorded process runs: its pid is alive and is still the process we started. */
export function isAlive(record: ProcessRecord): boolean {
  if (!isRunning(record.pid)) return false;
  return record.startTime === undefined || processStartTime(record.pid) === record.startTime;
}
