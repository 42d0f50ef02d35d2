import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterEach, describe, expect, inject, it } from "vitest";
import type { GatewayConfig } from "../../config/schema.ts";
import { createLogger } from "../../runtime/logger.ts";
import { spawnCli } from "../support/cli.ts";

const services = inject("services");
const running: Array<ReturnType<typeof spawnCli>> = [];
afterEach(() => {
  for (const cli of running.splice(0)) cli.child.kill("SIGKILL");
});

/** What a logger of this configuration writes, as text. */
function written(config: GatewayConfig["log"]) {
  let text = "";
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { log: createLogger(config, destination), text: () => text };
}

/** A line with what redaction must hide: a key in a request header, a provider's API key. */
function logSecrets(log: ReturnType<typeof createLogger>) {
  log.info(
    {
      req: { method: "POST", headers: { authorization: "Bearer sk-live-header-secret" } },
      provider: { name: "openai", apiKey: "sk-live-config-secret" },
      models: ["gpt-4o", "mock"],
      attempts: 2,
    },
    "request finished",
  );
}

const prettyLine = /^\d\d:\d\d:\d\d\.\d{3} (TRACE|DEBUG|INFO |WARN |ERROR|FATAL) \S/;

describe("log lines", () => {
  it("pretty: one readable line per event, fields as key=value, no JSON, secrets still hidden", () => {
    const { log, text } = written({ level: "info", format: "pretty" });
    logSecrets(log);
    log.warn("second event");
    const lines = text().split("\n").filter(Boolean);
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).toMatch(prettyLine);
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}request finished /);
    expect(lines[0]).toContain("req.method=POST");
    expect(lines[0]).toContain("req.headers.authorization=[redacted]");
    expect(lines[0]).toContain("provider.name=openai provider.apiKey=[redacted]");
    expect(lines[0]).toContain("models=gpt-4o,mock attempts=2");
    expect(lines[1]).toMatch(/ WARN {2}second event$/);
    expect(text()).not.toMatch(/[{}]|sk-live/);
    // Not a terminal: no colour codes.
    expect(text()).not.toContain("\u001b[");
  });

  it("JSON: one object per line, with the same redaction", () => {
    const { log, text } = written({ level: "info", format: "json" });
    logSecrets(log);
    const [line, ...rest] = text().split("\n").filter(Boolean);
    expect(rest).toEqual([]);
    expect(JSON.parse(line as string)).toMatchObject({
      level: 30,
      msg: "request finished",
      req: { headers: { authorization: "[redacted]" } },
      provider: { apiKey: "[redacted]" },
    });
    expect(text()).not.toContain("sk-live");
  });

  it("pretty: an error is its type and message on the line; its stack only at debug", () => {
    const failing = new Error("the disk is full\nwhile writing");
    const atInfo = written({ level: "info", format: "pretty" });
    atInfo.log.error({ err: failing }, "could not keep the batch");
    expect(atInfo.text()).toMatch(
      /ERROR could not keep the batch err="Error: the disk is full while writing"\n$/,
    );

    const atDebug = written({ level: "debug", format: "pretty" });
    atDebug.log.error({ err: failing }, "could not keep the batch");
    const [line, ...stack] = atDebug.text().trimEnd().split("\n");
    expect(line).toMatch(/could not keep the batch err=/);
    expect(stack.join("\n")).toMatch(/^ {4}Error: the disk is full\n {4}while writing\n {8}at /);
  });
});

describe("a first start, as printed", () => {
  it("on LOG_FORMAT=pretty: readable lines, the migrations in one line, the key in a block apart", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "gateway-data-"));
    const gateway = spawnCli(["start"], { GATEWAY_DATA_DIR: dataDir, PORT: "0", LOG_FORMAT: "pretty" });
    running.push(gateway);
    await gateway.printed("stdout", " gateway ready ");
    await gateway.printed("stderr", "npx ai-gateway config");
    const url = /gateway ready url=(\S+)/.exec(gateway.stdout())?.[1] as string;
    const lines = gateway.stdout().split("\n").filter(Boolean);
    for (const line of lines) expect(line).toMatch(prettyLine);
    expect(gateway.stdout()).not.toMatch(/[{}]/);
    // The embedded ClickHouse has every migration to apply but the one for servers' SQL users.
    expect(lines.filter((line) => line.includes("migration"))).toEqual([
      expect.stringMatching(
        / INFO {2}ClickHouse schema at version \d+ \(\d+ migrations applied in \d+\.\d s\)$/,
      ),
    ]);

    const key = /^ {4}(gw-[A-Za-z0-9_-]{20,})$/m.exec(gateway.stderr())?.[1] as string;
    const block = gateway.stderr().split(`${"─".repeat(72)}\n`);
    expect(block).toHaveLength(3);
    expect(block[0]).toBe("\n");
    expect(block[1]).toContain(`The gateway is ready at ${url}`);
    expect(block[1]).toContain(`Dashboard: ${url}/ui`);
    expect(block[1]).toContain(`curl ${url}/v1/chat/completions`);
    expect(block[1]).toContain(`Bearer ${key}`);
    expect(gateway.stdout()).not.toContain(key);
    gateway.child.kill("SIGTERM");
    expect(await gateway.closed).toBe(0);

    // Started again on the same data: nothing to migrate, no key to show; JSON away from a terminal.
    const again = spawnCli(["start"], { GATEWAY_DATA_DIR: dataDir, PORT: "0" });
    running.push(again);
    await again.printed("stdout", '"msg":"gateway ready"');
    const messages = again
      .stdout()
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line).msg as string);
    expect(messages.filter((message) => message.includes("migration") || message.includes("schema"))).toEqual(
      [expect.stringMatching(/^ClickHouse schema at version \d+ \(up to date\)$/)],
    );
    again.child.kill("SIGTERM");
    expect(await again.closed).toBe(0);
    expect(again.stderr()).toBe("");
  }, 120_000);

  it("in JSON: the key in one structured line on stderr, apart from the log on stdout", async () => {
    const gateway = spawnCli(["start"], {
      GATEWAY_DATA_DIR: mkdtempSync(join(tmpdir(), "gateway-data-")),
      CLICKHOUSE_URL: services.clickhouse.url,
      CLICKHOUSE_USER: services.clickhouse.username,
      CLICKHOUSE_PASSWORD: services.clickhouse.password,
      PORT: "0",
      LOG_FORMAT: "json",
    });
    running.push(gateway);
    await gateway.printed("stderr", "\n");
    const [banner, ...rest] = gateway.stderr().split("\n").filter(Boolean);
    expect(rest).toEqual([]);
    const shown = JSON.parse(banner as string);
    expect(shown).toMatchObject({
      level: 30,
      msg: `The gateway is ready at ${shown.url}`,
      key: expect.stringMatching(/^gw-/),
      dashboard: `${shown.url}/ui`,
      next: [expect.stringContaining(`curl ${shown.url}/v1/chat/completions`), "npx ai-gateway config"],
    });
    expect(gateway.stdout()).not.toContain(shown.key);
  });
});
