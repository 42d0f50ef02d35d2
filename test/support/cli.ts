import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `ai-gateway …` as its own process, as a user runs it; the environment is only what is given. */
export async function runCli(args: string[], env: Record<string, string>): Promise<CliRun> {
  const cli = spawnCli(args, env);
  const code = await cli.closed;
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}

/** The same, still running: what it has printed so far, and a wait for a text to appear. */
export function spawnCli(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ["--import", "tsx", "bin/gateway.ts", ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output = { stdout: "", stderr: "" };
  child.stdout.on("data", (chunk: Buffer) => {
    output.stdout += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    output.stderr += chunk.toString();
  });
  const closed = new Promise<number | null>((resolve) => child.once("close", resolve));
  let exited = false;
  void closed.then(() => {
    exited = true;
  });
  return {
    child,
    closed,
    stdout: () => output.stdout,
    stderr: () => output.stderr,
    /** Resolves once `stream` holds `text`; fails if the process ends first. */
    async printed(stream: "stdout" | "stderr", text: string): Promise<void> {
      while (!output[stream].includes(text)) {
        if (exited)
          throw new Error(`ai-gateway ${args.join(" ")} exited before printing "${text}": ${output.stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
}

/**
 * `ai-gateway …` with its stdout and stderr on a terminal `columns` wide, as a person runs it:
 * util-linux's `script` gives it a pseudo-terminal. The terminal's output comes back with `\n`
 * line ends, stdout and stderr in one.
 */
export async function runCliOnTerminal(
  args: string[],
  env: Record<string, string>,
  columns = 100,
): Promise<{ code: number | null; output: string }> {
  const quoted = ["node", "--import", "tsx", "bin/gateway.ts", ...args]
    .map((word) => `'${word.replaceAll("'", "'\\''")}'`)
    .join(" ");
  const child = spawn("script", ["-qec", `stty cols ${columns}; exec ${quoted}`, "/dev/null"], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
  return { code, output: output.replaceAll("\r\n", "\n") };
}
