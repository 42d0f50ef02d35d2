import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Role } from "../../app/roles.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

export interface GatewayProcess {
  readonly child: ChildProcess;
  readonly lines: LogLine[];
  /** Stdout lines that are no log line: what Node itself prints when asked (a bench's `--trace-gc-nvp`). */
  readonly otherOutput: string[];
  readonly url: string;
  /** The configuration file it reads (a test may rewrite it to see the process reload it). */
  readonly configFile: string;
  readonly exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): void;
}

export interface SpawnOptions {
  /** Flags for Node itself, e.g. a CPU profiler's. */
  nodeArgs?: string[];
  /** The Node binary to run it with (a benchmark compares Node versions); this process's by default. */
  node?: string;
}

/** Starts `ai-gateway start --role ROLE` as its own OS process with these settings, and waits until it is ready. */
export async function spawnGateway(
  settings: Record<string, unknown>,
  role: Role,
  { nodeArgs = [], node = process.execPath }: SpawnOptions = {},
): Promise<GatewayProcess> {
  const configFile = join(mkdtempSync(join(tmpdir(), "gateway-process-")), "gateway.json");
  writeFileSync(configFile, JSON.stringify(settings));
  const child = spawn(node, [...nodeArgs, "--import", "tsx", "bin/gateway.ts", "start", "--role", role], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", GATEWAY_CONFIG: configFile },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: LogLine[] = [];
  const otherOutput: string[] = [];
  let stderr = "";
  let partial = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    const text = partial + chunk.toString();
    const complete = text.split("\n");
    partial = complete.pop() ?? "";
    for (const line of complete) {
      if (line.startsWith("{")) lines.push(JSON.parse(line) as LogLine);
      else if (line.trim()) otherOutput.push(line);
    }
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  for (;;) {
    const ready = lines.find((line) => line.msg === "gateway ready");
    if (ready) {
      return {
        child,
        lines,
        otherOutput,
        url: ready.url as string,
        configFile,
        exited,
        kill: (signal = "SIGTERM") => child.kill(signal),
      };
    }
    const outcome = await Promise.race([
      exited,
      new Promise((resolve) => setTimeout(resolve, 50, "waiting")),
    ]);
    if (outcome !== "waiting")
      throw new Error(`the ${role} process exited (${outcome}) before it was ready: ${stderr}`);
  }
}
