import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { otherNodes } from "../test/support/other-nodes.ts";
import { writeGeneratedSection } from "./generated-section.ts";
import { benchMasterKey, startLocalGateway } from "./local-gateway.ts";
import { quantile } from "./stats.ts";

/**
 * `npm run bench:cli`: how long `npx ai-gateway keys list` takes against a running gateway, and
 * which part is whose — npm's, the hand-over between Nodes, tsx's, ours. Each way is a whole
 * process run several times after a warm-up; wall clock and CPU (user + sys, by GNU time) medians.
 */
const { values: args } = parseArgs({ options: { runs: { type: "string", default: "9" } } });
const runs = Number(args.runs);
const root = new URL("../", import.meta.url).pathname;
const launcher = join(root, "bin/ai-gateway.js");

/** Median wall and CPU seconds of `command`, run `runs` times after one warm-up. */
async function time(command: string[], env: NodeJS.ProcessEnv): Promise<{ wall: number; cpu: number }> {
  const out = join(mkdtempSync(join(tmpdir(), "bench-cli-")), "time");
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let run = 0; run <= runs; run++) {
    // Not spawnSync: the gateway answering the command runs in this process's event loop.
    const child = spawn("/usr/bin/time", ["-o", out, "-f", "%e %U %S", ...command], {
      cwd: root,
      env,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
    if (code !== 0) throw new Error(`${command.join(" ")} failed: ${stderr}`);
    const [wall, user, sys] =
      readFileSync(out, "utf8").trim().split("\n").at(-1)?.split(" ").map(Number) ?? [];
    if (run > 0) {
      walls.push(wall as number);
      cpus.push((user as number) + (sys as number));
    }
  }
  return { wall: quantile(walls, 0.5), cpu: quantile(cpus, 0.5) };
}

const local = await startLocalGateway({ providers: [], models: [] });
try {
  const env = {
    ...process.env,
    GATEWAY_URL: local.gateway.url,
    GATEWAY_MASTER_KEY: benchMasterKey,
  };
  const other = otherNodes()[0];
  const ways: Array<[string, string[]]> = [
    ["`npx ai-gateway keys list`, as the README shows", ["npx", "ai-gateway", "keys", "list"]],
    ["`npx node -e 0`: npm's own part, then the project's Node doing nothing", ["npx", "node", "-e", "0"]],
    ["`ai-gateway keys list` with node_modules/.bin on the PATH (no npm)", [launcher, "keys", "list"]],
    ...(other
      ? [
          [
            `the same started by the machine's Node ${spawnSync(other, ["-v"]).stdout.toString().trim()} (a hand-over)`,
            [other, launcher, "keys", "list"],
          ] as [string, string[]],
        ]
      : []),
    [
      "`node --import tsx bin/gateway.ts keys list` on the project's Node (the command alone)",
      [process.execPath, "--import", "tsx", "bin/gateway.ts", "keys", "list"],
    ],
    ["`node -e 0` on the project's Node (Node itself)", [process.execPath, "-e", "0"]],
  ];
  const rows: Array<{ label: string; wall: number; cpu: number }> = [];
  for (const [label, command] of ways) rows.push({ label, ...(await time(command, env)) });
  const report = [
    `Node ${process.versions.node}, ${runs} runs each after a warm-up, medians; ${new Date().toISOString().slice(0, 16)} UTC.`,
    "",
    "| how | wall s | CPU s |",
    "| --- | ---: | ---: |",
    ...rows.map((row) => `| ${row.label} | ${row.wall.toFixed(2)} | ${row.cpu.toFixed(2)} |`),
  ].join("\n");
  process.stdout.write(`${report}\n`);
  writeGeneratedSection("bench:cli", "## The CLI (`npm run bench:cli`)", report);
} finally {
  await local.close();
}
