import { spawn } from "node:child_process";

export interface Upstream {
  /** The emulator's OpenAI base URL, ending in /v1. */
  url: string;
  pid: number;
  stop(): void;
}

/** The benchmarks' upstream, bench/emulator.ts, in a process of its own so its CPU is not the load generator's. */
export async function spawnUpstream(apiKey: string): Promise<Upstream> {
  const child = spawn(process.execPath, ["--import", "tsx", "bench/emulator.ts", apiKey], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  let text = "";
  for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
    text += chunk.toString();
    const newline = text.indexOf("\n");
    if (newline < 0) continue;
    const { url } = JSON.parse(text.slice(0, newline)) as { url: string };
    // Closing its stdin is what stops it.
    return { url, pid: child.pid as number, stop: () => child.stdin?.end() };
  }
  throw new Error("the emulator exited before it was ready");
}
