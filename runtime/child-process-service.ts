import { type ChildProcess, spawn } from "node:child_process";

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
   */
  stopWith: "close-stdin" | "kill";
}

const outputTailBytes = 16 * 1024;

/**
 * Starts a long-running child process in its own process group, waits until it is ready, and ties
 * its life to ours: the child is expected to exit when its stdin closes, which the kernel does for
 * us if this process dies without cleaning up.
 */
export async function startChildProcessService(
  options: ChildProcessServiceOptions,
): Promise<ChildProcessService> {
  const child = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ["pipe", "pipe", "pipe"],
    // Own process group: a Ctrl-C in the terminal reaches us, and we decide the shutdown order.
    detached: true,
  });
  let output = "";
  const keepTail = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-outputTailBytes);
  };
  child.stdout?.on("data", keepTail);
  child.stderr?.on("data", keepTail);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const spawnFailed = new Promise<Error>((resolve) => child.once("error", resolve));

  const failure = (reason: string) =>
    new Error(
      `${options.name} did not start: ${reason}${output ? `\n--- its output ---\n${output.trim()}` : ""}`,
    );

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

  return {
    pid: child.pid as number,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
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
