import { dirname } from "node:path";
import { environmentVariables } from "../config/environment.ts";

/** A service the gateway needs did not answer at start. `option`: the setting that says where it is. */
export class ServiceUnreachable extends Error {
  constructor(
    readonly service: "Kafka" | "Redis" | "ClickHouse",
    /** Where it was looked for, without credentials. */
    readonly address: string,
    readonly option: string,
    cause: Error,
  ) {
    super(`cannot reach ${service} at ${address}: ${cause.message}`, { cause });
    this.name = "ServiceUnreachable";
  }
}

/** The embedded ClickHouse's data directory is locked by another ClickHouse (another gateway's). */
export class DataDirectoryInUse extends Error {
  constructor(
    readonly directory: string,
    /** The gateway process holding it, when the system says. */
    readonly holder: number | undefined,
    cause: Error,
  ) {
    super(`the ClickHouse data directory ${directory} is locked by another process`, { cause });
    this.name = "DataDirectoryInUse";
  }
}

/**
 * The one place a failed start becomes what the operator reads: for a failure the gateway knows,
 * one sentence saying what to do; undefined for any other (its stack is then worth showing).
 */
export function startFailureSentence(error: unknown): string | undefined {
  if (error instanceof ServiceUnreachable) {
    const setting = variableOf(error.option) ?? error.option;
    return `cannot reach ${error.service} at ${error.address}: is it running? set ${setting} (${error.option}) to where it listens`;
  }
  if (error instanceof DataDirectoryInUse) {
    const holder = error.holder ? ` (pid ${error.holder})` : "";
    // Named as the user set it: the data directory (GATEWAY_DATA_DIR) the ClickHouse folder is in, if it is.
    const { directory } = error;
    const underDataDir =
      environmentVariables.GATEWAY_DATA_DIR["clickhouse.dataDir"](dirname(directory)) === directory;
    return underDataDir
      ? `the data directory ${dirname(directory)} is used by another gateway process${holder}: stop it, or set GATEWAY_DATA_DIR to another directory`
      : `the ClickHouse data directory ${directory} is used by another gateway process${holder}: stop it, or set clickhouse.dataDir to another directory`;
  }
  const listen = error as { code?: unknown; syscall?: unknown; port?: unknown };
  if (listen.syscall === "listen" && listen.code === "EADDRINUSE")
    return `port ${listen.port} is in use by another process: stop it or set PORT`;
  if (listen.syscall === "listen" && listen.code === "EACCES")
    return `port ${listen.port} needs privileges this process does not have: set PORT to 1024 or above`;
  return undefined;
}

/** The environment variable that sets `option`, if one does alone. */
function variableOf(option: string): string | undefined {
  return Object.entries(environmentVariables).find(
    ([, options]) => Object.keys(options).length === 1 && option in options,
  )?.[0];
}
