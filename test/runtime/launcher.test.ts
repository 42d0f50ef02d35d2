import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, realpathSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import manifest from "../../package.json" with { type: "json" };
import { otherNodes } from "../support/other-nodes.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const launcher = join(root, "bin", "ai-gateway.js");
const started: number[] = [];
afterEach(() => {
  for (const pid of started.splice(0)) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

/** The project's own Node (node-<platform>-<arch>), when npm installed one here. */
function projectNode(): string | undefined {
  try {
    const found = createRequire(import.meta.url).resolve(
      `node-${process.platform}-${process.arch}/package.json`,
    );
    return realpathSync(join(dirname(found), "bin", "node"));
  } catch {
    return undefined;
  }
}

/** `ai-gateway start` through the launcher, in a process group of its own as a shell would make. */
function startThroughLauncher(node: string) {
  const child = spawn(node, [launcher, "start"], {
    cwd: root,
    detached: true,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      PORT: "0",
      GATEWAY_DATA_DIR: mkdtempSync(join(tmpdir(), "launcher-data-")),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  started.push(child.pid as number);
  let stdout = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("close", resolve));
  const messages = () =>
    stdout
      .split("\n")
      .filter(Boolean)
      .map((line) => (JSON.parse(line) as { msg: string }).msg);
  const ready = async () => {
    while (!messages().includes("gateway ready")) await new Promise((resolve) => setTimeout(resolve, 50));
  };
  return { child, exited, messages, ready };
}

describe("the ai-gateway command's launcher", () => {
  it("is what the tests run on: the project's own Node, a supported one", () => {
    expect(Number(process.versions.node.split(".")[0])).toBeGreaterThanOrEqual(22);
    const own = projectNode();
    if (own !== undefined) expect(realpathSync(process.execPath)).toBe(own);
  });

  it("runs the command on the project's Node whichever Node started it (npx starts bins with npm's)", () => {
    const expected = `ai-gateway ${manifest.version} (Node ${process.versions.node})\n`;
    for (const node of [process.execPath, ...otherNodes()]) {
      const run = spawnSync(node, [launcher, "--version"], { cwd: root, encoding: "utf8" });
      expect(run.stderr, node).toBe("");
      expect(run.stdout, node).toBe(expected);
    }
    // Run as a program, the way npx runs it: with another Node first on the PATH, from elsewhere.
    const otherFirst = [...otherNodes().map(dirname), process.env.PATH ?? ""].join(delimiter);
    const asProgram = spawnSync(launcher, ["--version"], {
      cwd: tmpdir(),
      env: { PATH: otherFirst },
      encoding: "utf8",
    });
    expect(asProgram.stderr).toBe("");
    expect(asProgram.stdout).toBe(expected);
  });

  it("is linked into node_modules/.bin by a package of its own, which npx runs at once", () => {
    // npx installs the project into its cache (half a second a call) to run a bin the project's
    // own package.json declares; one found in node_modules/.bin it runs as it is.
    expect(manifest).not.toHaveProperty("bin");
    expect(realpathSync(join(root, "node_modules", ".bin", "ai-gateway"))).toBe(realpathSync(launcher));
  });

  it("passes a Ctrl-C on: the gateway stops once and cleanly, though the signal reaches it twice", async () => {
    const node = otherNodes()[0] ?? process.execPath;
    const gateway = startThroughLauncher(node);
    await gateway.ready();
    // What a terminal does on Ctrl-C: the signal goes to the whole foreground process group.
    process.kill(-(gateway.child.pid as number), "SIGINT");
    expect(await gateway.exited).toBe(0);
    expect(gateway.messages().filter((msg) => msg === "shutting down")).toHaveLength(1);
    expect(gateway.messages()).not.toContain("second signal: exiting without waiting");
    expect(gateway.messages().at(-1)).toBe("stopped");
  });

  it("passes a SIGTERM sent to it alone on to the gateway", async () => {
    const gateway = startThroughLauncher(otherNodes()[0] ?? process.execPath);
    await gateway.ready();
    gateway.child.kill("SIGTERM");
    expect(await gateway.exited).toBe(0);
    expect(gateway.messages().at(-1)).toBe("stopped");
  });
});
