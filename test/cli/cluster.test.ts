import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import OpenAI from "openai";
import { afterAll, describe, expect, it, vi } from "vitest";
import { freePort } from "../../runtime/free-port.ts";
import { isRunning } from "../../runtime/stop-process.ts";
import { runCli } from "../support/cli.ts";

const run = promisify(execFile);
const key = "cluster-test-key";

/** The processes a `cluster.json` records (roles and services), as `up` wrote them. */
function recordedPids(dir: string): number[] {
  const state = JSON.parse(readFileSync(join(dir, "cluster.json"), "utf8")) as {
    roles: Array<{ pid: number }>;
    services: Record<string, { pid: number }>;
  };
  return [...state.roles, ...Object.values(state.services)].map((record) => record.pid);
}

/** Processes whose command line names `dir` (Kafka's, Redis's and ClickHouse's do), by pgrep. */
async function processesNaming(dir: string): Promise<string> {
  const { stdout } = await run("pgrep", ["-af", dir]).catch((error: { code?: number; stdout?: string }) => {
    if (error.code === 1) return { stdout: "" }; // pgrep: nothing matched.
    throw error;
  });
  return stdout.trim();
}

/**
 * `ai-gateway cluster up|status|down` as a user runs them: real Kafka, Redis and ClickHouse started
 * by the command in a temp dir, an ingress, two workers, a sink and a batch coordinator as
 * processes of their own, a call through them with the openai SDK, then a clean stop.
 */
describe("ai-gateway cluster", () => {
  const root = mkdtempSync(join(tmpdir(), "cluster-cli-"));
  const dir = join(root, "cluster");
  const config = join(root, "gateway.yaml");
  writeFileSync(
    config,
    [
      "providers:",
      "  - name: mock",
      "    type: mock",
      "models:",
      "  - name: mock",
      "    provider: mock",
      "",
    ].join("\n"),
  );
  const env: Record<string, string> = {
    GATEWAY_CONFIG: config,
    GATEWAY_KEYS: key,
    GATEWAY_SHUTDOWN_GRACE_MS: "2000",
    ...(process.env.AI_GATEWAY_CACHE ? { AI_GATEWAY_CACHE: process.env.AI_GATEWAY_CACHE } : {}),
  };
  const cluster = (args: string[]) => runCli(["cluster", ...args, "--dir", dir], env);
  let pids: number[] = [];
  let ingressPort = 0;

  afterAll(async () => {
    // A test that failed half-way still stops what it started: only the processes its state file names.
    if (existsSync(join(dir, "cluster.json"))) await cluster(["down"]);
    rmSync(root, { recursive: true, force: true });
  });

  it("up says in one sentence what to install when a program it runs is missing, and starts nothing", async () => {
    const emptyPath = mkdtempSync(join(root, "bin-"));
    const up = await runCli(["cluster", "up", "--dir", dir], { ...env, PATH: emptyPath });
    expect(up.code).toBe(1);
    expect(up.stderr).toMatch(/^error: ai-gateway cluster .* needs java \(a Java runtime, 17 or newer/);
    expect(up.stderr).toContain("redis-server (Redis");
    expect(up.stderr).toContain("python3 (Python 3");
    expect(up.stderr.trim().split("\n")).toHaveLength(1);
    expect(existsSync(dir)).toBe(false);
  });

  it("up refuses a count that is not a whole number from 1", async () => {
    const up = await cluster(["up", "--workers", "0"]);
    expect(up.code).toBe(2);
    expect(up.stderr).toContain("--workers takes a whole number from 1");
  });

  it("up starts the services and every role, and the ingress answers an OpenAI client on the configured port", async () => {
    const port = await freePort();
    ingressPort = port;
    // No --port: the ingress listens where the configuration says ($PORT over the file's server.port).
    const up = await runCli(["cluster", "up", "--workers", "2", "--dir", dir], {
      ...env,
      PORT: String(port),
    });
    expect(up.stderr).toBe("");
    expect(up.code).toBe(0);
    expect(up.stdout).toMatch(new RegExp(`^ingress-1 +\\d+ +127\\.0\\.0\\.1:${port} +yes`, "m"));
    expect(up.stdout).toContain(`${dir}/logs/`);
    expect(up.stdout).toContain(`GATEWAY_URL=http://127.0.0.1:${port}`);
    pids = recordedPids(dir);
    expect(pids).toHaveLength(8); // ingress, two workers, sink, batch; Kafka, Redis, ClickHouse

    const client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: key, maxRetries: 0 });
    const completion = await client.chat.completions.create({
      model: "mock",
      messages: [{ role: "user", content: "hello cluster" }],
    });
    expect(completion.choices[0]?.message.content).toBe("You said: hello cluster");
  }, 300_000);

  it("status --json reports every role ready and the workers' Kafka lag", async () => {
    const status = await cluster(["status", "--json"]);
    expect(status.code).toBe(0);
    const report = JSON.parse(status.stdout) as {
      up: boolean;
      roles: Array<{ name: string; role: string; ready: boolean; lag: number | null }>;
      services: Array<{ name: string; answers: boolean }>;
    };
    expect(report.up).toBe(true);
    expect(report.roles.map((role) => role.name)).toEqual([
      "ingress-1",
      "worker-1",
      "worker-2",
      "sink-1",
      "batch-1",
    ]);
    expect(report.roles.every((role) => role.ready)).toBe(true);
    for (const worker of report.roles.filter((role) => role.role === "worker"))
      expect(worker.lag).toEqual(expect.any(Number));
    expect(report.services.map(({ name, answers }) => ({ name, answers }))).toEqual([
      { name: "kafka", answers: true },
      { name: "redis", answers: true },
      { name: "clickhouse", answers: true },
    ]);
  }, 60_000);

  it("up again finds the cluster up and starts nothing", async () => {
    const again = await cluster(["up", "--workers", "2"]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("is already up");
    expect(again.stdout).toContain(`GATEWAY_URL=http://127.0.0.1:${ingressPort}`);
    expect(recordedPids(dir)).toEqual(pids);
  }, 120_000);

  it("down stops every process it started and keeps the data", async () => {
    const down = await cluster(["down"]);
    expect(down.code).toBe(0);
    expect(down.stdout).toContain("The cluster is down");
    expect(down.stdout).not.toContain("killed");
    expect(existsSync(join(dir, "cluster.json"))).toBe(false);
    // A process that has exited may stay a zombie until its new parent reaps it: wait for that.
    await vi.waitFor(() => expect(pids.filter(isRunning)).toEqual([]), { timeout: 30_000, interval: 200 });
    await vi.waitFor(async () => expect(await processesNaming(dir)).toBe(""), {
      timeout: 30_000,
      interval: 200,
    });
    expect(existsSync(join(dir, "kafka", "server.properties"))).toBe(true);
    const status = await cluster(["status"]);
    expect(status.code).toBe(1);
    expect(status.stdout).toContain("no cluster is running");
  }, 120_000);
});
