import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { stopProcess } from "./stop-process.ts";

export interface ChildProcessService {
  readonly pid: number;
  /** Stops the process (see `stopWith`) and resolves once it has exited. */
  stop(): Promise<void>;
}

export interface ChildProcessServiceOptions {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Resolves true once the service answers; polled until `startTimeoutMs`. */
  isReady: () => Promise<boolean>;
  startTimeoutMs: number;
  /**
   * `close-stdin`: the child stops by itself when its stdin closes (clean shutdown).
   * `kill`: its whole process group is killed (throwaway data, fastest).
   * `terminate`: SIGTERM, then SIGKILL after a bound (a detached service, stopped cleanly).
   */
  stopWith: "close-stdin" | "kill" | "terminate";
  /**
   * Given: the service outlives this process (`ai-gateway cluster`): its output is appended to this
   * file, its stdin is /dev/null and nothing waits for it; a later process stops it by its pid.
   * Not given: its output is kept in memory for a failure message and its life is tied to ours.
   */
  logFile?: string;
}

const outputTailBytes = 16 * 1024;
/** How long a `terminate` stop waits for a clean exit before SIGKILL. */
const terminateBoundMs = 30_000;

/**
 * Starts a long-running child process in its own process group and waits until it is ready. Not
 * detached (no `logFile`), its life is tied to ours: the child is expected to exit when its stdin
 * closes, which the kernel does for us if this process dies without cleaning up.
 */
export async function startChildProcessService(
  options: ChildProcessServiceOptions,
): Promise<ChildProcessService> {
  const log = options.logFile === undefined ? undefined : openLog(options.logFile);
  const child = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: log ? ["ignore", log.fd, log.fd] : ["pipe", "pipe", "pipe"],
    // Own process group: a Ctrl-C in the terminal reaches us, and we decide the shutdown order.
    detached: true,
  });
  if (log) closeSync(log.fd);
  let output = "";
  const keepTail = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-outputTailBytes);
  };
  child.stdout?.on("data", keepTail);
  child.stderr?.on("data", keepTail);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const spawnFailed = new Promise<Error>((resolve) => child.once("error", resolve));

  const failure = (reason: string) => {
    const tail = log ? readFrom(log.path, log.startSize) : output;
    return new Error(
      `${options.name} did not start: ${reason}${tail ? `\n--- its output ---\n${tail.trim()}` : ""}`,
    );
  };

  const deadline = Date.now() + options.startTimeoutMs;
  for (;;) {
    const outcome = await Promise.race([
      exited.then((code) => ({ kind: "exited" as const, code })),
      spawnFailed.then((error) => ({ kind: "error" as const, error })),
      delay(100).then(() => ({ kind: "poll" as const })),
    ]);
    if (outcome.kind === "error") throw failure(outcome.error.message);
    if (outcome.kind === "exited") throw failure(`exited with code ${outcome.code}`);
    if (await options.isReady().catch(() => false)) break;
    if (Date.now() > deadline) {
      killGroup(child);
      throw failure(`not ready after ${options.startTimeoutMs} ms`);
    }
  }
  // A detached service must not keep this process alive (the CLI exits, the service runs on).
  if (log) child.unref();

  return {
    pid: child.pid as number,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (options.stopWith === "terminate") {
        await stopProcess(child.pid as number, terminateBoundMs);
        return;
      }
      if (options.stopWith === "close-stdin") {
        child.stdin?.end();
        const stopped = await Promise.race([exited.then(() => true), delay(15_000).then(() => false)]);
        if (stopped) return;
      }
      killGroup(child);
      await exited;
    },
  };
}

function openLog(path: string): { path: string; fd: number; startSize: number } {
  const fd = openSync(path, "a");
  return { path, fd, startSize: statSync(path).size };
}

/** What a detached service wrote to its log since `offset` (this start), at most the last 16 KiB. */
function readFrom(path: string, offset: number): string {
  const size = statSync(path).size;
  const start = Math.max(offset, size - outputTailBytes);
  const buffer = Buffer.alloc(size - start);
  const fd = openSync(path, "r");
  try {
    readSync(fd, buffer, 0, buffer.length, start);
  } finally {
    closeSync(fd);
  }
  return buffer.toString("utf8");
}

function killGroup(child: ChildProcess): void {
  try {
    process.kill(-(child.pid as number), "SIGKILL");
  } catch {
    // Already gone.
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
