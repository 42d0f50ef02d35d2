import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `ai-gateway …` as its own process, as a user runs it; the environment is only what is given. */
export function runCli(args: string[], env: Record<string, string>): Promise<CliRun> {
  const child = spawn(process.execPath, ["--import", "tsx", "bin/gateway.ts", ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve) => child.once("close", (code) => resolve({ code, stdout, stderr })));
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
