import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { stopProcess } from "../../runtime/stop-process.ts";
import {
  type ClusterRole,
  isAlive,
  type ProcessRecord,
  readState,
  removeState,
  roleName,
  serviceNames,
} from "./state.ts";

/** Past a gateway process's grace period for in-flight work, how long its commits and flushes may take. */
const gatewayMarginMs = 10_000;
/** How long a service (Kafka's controlled shutdown, ClickHouse's merges) may take to stop cleanly. */
const serviceBoundMs = 30_000;

/**
 * Stops the gateway processes first — the ingress first, so that no new call comes in while the
 * workers finish theirs, then the workers, sinks and batch coordinator — and the services last.
 * Each is sent SIGTERM and killed if it has not exited in time. Only processes recorded in the
 * state file are touched, and only while they are still the process that was started.
 */
export async function downCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { dir: { type: "string", default: "./data/cluster" } },
  });
  const dir = resolve(values.dir);
  const state = readState(dir);
  if (!state) {
    process.stdout.write(`no cluster is running from ${dir}\n`);
    return 0;
  }
  const stop = async (name: string, record: ProcessRecord, boundMs: number) => {
    if (!isAlive(record)) {
      process.stdout.write(`${name} was not running\n`);
      return;
    }
    const outcome = await stopProcess(record.pid, boundMs);
    process.stdout.write(
      outcome === "killed" ? `${name} killed: it did not stop within ${boundMs} ms\n` : `${name} stopped\n`,
    );
  };
  const gatewayBoundMs = state.shutdownGraceMs + gatewayMarginMs;
  for (const role of shutdownOrder) {
    const records = state.roles.filter((record) => record.role === role);
    await Promise.all(records.map((record) => stop(roleName(record), record, gatewayBoundMs)));
  }
  await Promise.all(
    serviceNames.flatMap((name) => {
      const record = state.services[name];
      return record ? [stop(name, record, serviceBoundMs)] : [];
    }),
  );
  removeState(dir);
  process.stdout.write(
    `The cluster is down. Its data stays in ${dir} for the next \`npx ai-gateway cluster up\`; ` +
      `\`rm -rf ${dir}\` deletes it.\n`,
  );
  return 0;
}

const shutdownOrder: ClusterRole[] = ["ingress", "worker", "sink", "batch"];
