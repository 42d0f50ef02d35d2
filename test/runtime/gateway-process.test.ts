import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, inject, it } from "vitest";
import { runCli } from "../support/cli.ts";
import { eventually } from "../support/eventually.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const services = inject("services");
const running: ChildProcess[] = [];
afterEach(() => {
  for (const child of running.splice(0)) child.kill("SIGKILL");
});

interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** Starts `ai-gateway start` as `npm start` does, with only the environment given here. */
function startGateway(env: Record<string, string>) {
  const child = spawn(process.execPath, ["--import", "tsx", "bin/gateway.ts", "start"], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.push(child);
  const lines: LogLine[] = [];
  let stderr = "";
  let buffered = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    const complete = buffered.split("\n");
    buffered = complete.pop() ?? "";
    for (const line of complete) lines.push(JSON.parse(line) as LogLine);
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const logged = async (msg: string): Promise<LogLine> => {
    for (;;) {
      const line = lines.find((candidate) => candidate.msg === msg);
      if (line) return line;
      const code = await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 50, "waiting"))]);
      if (code !== "waiting")
        throw new Error(`the gateway exited (${code}) before logging "${msg}": ${stderr}`);
    }
  };
  return { child, lines, exited, logged, stderr: () => stderr };
}

/** The generated key a start shows on stderr (after its "gateway ready" line, on another pipe). */
async function shownKey(gateway: ReturnType<typeof startGateway>): Promise<string> {
  let key: string | undefined;
  await eventually(() => {
    key = /\b(gw-[A-Za-z0-9_-]{20,})/.exec(gateway.stderr())?.[1];
    expect(key, "a gateway key shown on stderr").toBeDefined();
  });
  return key as string;
}

/** GET /v1/models with a key: 200 lets it in, 401 does not. */
async function statusWith(url: string, key: string): Promise<number> {
  return (await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${key}` } })).status;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("the gateway process", () => {
  it("starts on embedded defaults, answers health checks, and stops cleanly with its ClickHouse on SIGINT", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "gateway-data-"));
    const gateway = startGateway({ GATEWAY_DATA_DIR: dataDir });
    const embedded = await gateway.logged("embedded ClickHouse started");
    const { url } = (await gateway.logged("gateway ready")) as LogLine & { url: string };

    expect((await (await fetch(`${url}/healthz`)).json()) as unknown).toEqual({ status: "ok" });
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready", checks: { clickhouse: "ok" } });

    // No key configured: one was made, shown once on stderr with a request to paste, and only its hash kept.
    const key = /\b(gw-[A-Za-z0-9_-]{20,})/.exec(gateway.stderr())?.[1] as string;
    expect(gateway.stderr()).toContain(`curl ${url}/v1/chat/completions`);
    const chat = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "mock", messages: [{ role: "user", content: "hello" }] }),
    });
    expect(chat.status).toBe(200);
    const kept = readFileSync(join(dataDir, "gateway-key.sha256"), "utf8");
    expect(kept.trim()).toBe(createHash("sha256").update(key).digest("hex"));
    expect(gateway.lines.some((line) => JSON.stringify(line).includes(key))).toBe(false);
    // It is the only key, so it is also the admin API's: no other way in.
    const keys = await fetch(`${url}/admin/keys`, { headers: { authorization: `Bearer ${key}` } });
    expect(keys.status).toBe(200);

    gateway.child.kill("SIGINT");
    expect(await gateway.exited).toBe(0);
    expect(gateway.lines.at(-1)?.msg).toBe("stopped");
    expect(processAlive(embedded.clickhousePid as number)).toBe(false);
    expect(
      gateway.lines.every((line) => typeof line.level === "number" && typeof line.time === "string"),
    ).toBe(true);
  });

  it("uses real Kafka, Redis and ClickHouse when their connection settings are given", async () => {
    const gateway = startGateway({
      // Its generated key's hash goes there, not into the checkout (where a later `npm start` would find it).
      GATEWAY_DATA_DIR: mkdtempSync(join(tmpdir(), "gateway-data-")),
      KAFKA_BROKERS: services.kafka.brokers.join(","),
      REDIS_URL: services.redis.url,
      CLICKHOUSE_URL: services.clickhouse.url,
      CLICKHOUSE_USER: services.clickhouse.username,
      CLICKHOUSE_PASSWORD: services.clickhouse.password,
    });
    const { url } = (await gateway.logged("gateway ready")) as LogLine & { url: string };
    const ready = await fetch(`${url}/readyz`);
    expect(await ready.json()).toEqual({
      status: "ready",
      checks: { clickhouse: "ok", redis: "ok", kafka: "ok" },
    });
    expect(gateway.lines.some((line) => line.msg === "embedded ClickHouse started")).toBe(false);
    gateway.child.kill("SIGTERM");
    expect(await gateway.exited).toBe(0);
  });

  it("listens on this machine only by default, as npm start does", async () => {
    // An address of this machine that is not loopback, as another machine would reach it.
    const outside = Object.values(networkInterfaces())
      .flat()
      .find((address) => address?.family === "IPv4" && !address.internal)?.address;
    expect(outside, "this machine has no interface other than loopback to try from").toBeDefined();
    const gateway = startGateway({
      GATEWAY_DATA_DIR: mkdtempSync(join(tmpdir(), "gateway-data-")),
      CLICKHOUSE_URL: services.clickhouse.url,
      CLICKHOUSE_USER: services.clickhouse.username,
      CLICKHOUSE_PASSWORD: services.clickhouse.password,
    });
    const { url } = (await gateway.logged("gateway ready")) as LogLine & { url: string };
    const port = new URL(url).port;
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    await expect(fetch(`http://${outside}:${port}/healthz`)).rejects.toMatchObject({
      cause: { code: "ECONNREFUSED" },
    });
    gateway.child.kill("SIGTERM");
    expect(await gateway.exited).toBe(0);
  });

  /** A first start with no key configured, on the real services (the embedded ClickHouse takes longer). */
  const withoutKeys = () => ({
    GATEWAY_DATA_DIR: mkdtempSync(join(tmpdir(), "gateway-data-")),
    CLICKHOUSE_URL: services.clickhouse.url,
    CLICKHOUSE_USER: services.clickhouse.username,
    CLICKHOUSE_PASSWORD: services.clickhouse.password,
  });

  it("keeps no key from a first start that fails (port in use): the next start shows one that lets the user in", async () => {
    const env = withoutKeys();
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = (taken.address() as { port: number }).port;
    const failed = startGateway({ ...env, PORT: String(port) });
    expect(await failed.exited).toBe(1);
    expect(failed.stderr()).not.toMatch(/gw-/);
    await new Promise((resolve) => taken.close(resolve));

    const gateway = startGateway(env);
    const { url } = (await gateway.logged("gateway ready")) as LogLine & { url: string };
    expect(await statusWith(url, await shownKey(gateway))).toBe(200);
    gateway.child.kill("SIGTERM");
    expect(await gateway.exited).toBe(0);
  });

  it("ai-gateway reset-key replaces a lost generated key: the new one lets the user in, the old one no more", async () => {
    const env = withoutKeys();
    const first = startGateway(env);
    await first.logged("gateway ready");
    const lost = await shownKey(first);
    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);

    const reset = await runCli(["reset-key"], { GATEWAY_DATA_DIR: env.GATEWAY_DATA_DIR });
    expect(reset.code).toBe(0);
    const key = reset.stdout.trim();
    expect(key).toMatch(/^gw-[A-Za-z0-9_-]{20,}$/);
    expect(readFileSync(join(env.GATEWAY_DATA_DIR, "gateway-key.sha256"), "utf8").trim()).toBe(
      createHash("sha256").update(key).digest("hex"),
    );

    const gateway = startGateway(env);
    const { url } = (await gateway.logged("gateway ready")) as LogLine & { url: string };
    expect(await statusWith(url, key)).toBe(200);
    expect(await statusWith(url, lost)).toBe(401);
    gateway.child.kill("SIGTERM");
    expect(await gateway.exited).toBe(0);
    expect(gateway.stderr()).not.toMatch(/gw-/);

    // With keys configured no key is generated: nothing to reset.
    const refused = await runCli(["reset-key"], { ...env, GATEWAY_KEYS: "my-own-key-123" });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/keys are configured/);
  });
});
