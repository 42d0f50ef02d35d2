import { fileURLToPath } from "node:url";
import type { ChildProcessServiceOptions } from "../runtime/child-process-service.ts";

const tether = fileURLToPath(new URL("./tether.sh", import.meta.url));

/** How a local service is run: tied to our life (the tests), or detached with a log (`ai-gateway cluster`). */
export interface LocalServiceOptions {
  /** Given: the service outlives this process, its output appended here; stop it later by its pid. */
  logFile?: string;
}

/** A service started on this machine: where it answers, its process, and how to stop it from here. */
export interface RunningLocalService<Endpoint> {
  endpoint: Endpoint;
  pid: number;
  stop(): Promise<void>;
}

/**
 * How to run `command` as a service. Detached, it runs as it is and is stopped with SIGTERM (it may
 * hold data someone keeps); tied to our life, it runs under tether.sh, which kills it when we end
 * or die, and is killed outright (its data is thrown away).
 */
export function launch(
  command: [string, ...string[]],
  options: LocalServiceOptions,
): Pick<ChildProcessServiceOptions, "command" | "args" | "stopWith" | "logFile"> {
  return options.logFile
    ? { command: command[0], args: command.slice(1), stopWith: "terminate", logFile: options.logFile }
    : { command: tether, args: command, stopWith: "kill" };
}
