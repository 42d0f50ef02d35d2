import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { runCli } from "../support/cli.ts";

const file = join(mkdtempSync(join(tmpdir(), "gateway-config-cli-")), "my.yaml");
writeFileSync(
  file,
  stringify({
    server: { port: 7000, bodyLimitBytes: 2048 },
    auth: { keys: [{ key: "file-key-0123456789", name: "ci" }] },
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the configuration file's own interpolation
    providers: [{ name: "oa", type: "openai", options: { apiKey: "${OA_KEY}" } }],
    models: [{ name: "gpt", provider: "oa" }],
  }),
);
/** Every kind of secret: a provider's key, the master key, a password, the webhook's secret, a URL's password, a gateway key. */
const secrets = ["sk-provider-secret", "master-secret-1", "clickhouse-secret", "hook-secret", "redis-secret"];
const env = {
  GATEWAY_CONFIG: file,
  PORT: "9100",
  OA_KEY: "sk-provider-secret",
  GATEWAY_MASTER_KEY: "master-secret-1",
  CLICKHOUSE_PASSWORD: "clickhouse-secret",
  GATEWAY_ALERT_WEBHOOK_SECRET: "hook-secret",
  REDIS_URL: "redis://:redis-secret@cache:6379/0",
};

describe("ai-gateway config", () => {
  it("prints the configuration in effect as YAML, each value's source beside it, no secret in it", async () => {
    const run = await runCli(["config"], env);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    for (const secret of [...secrets, "file-key-0123456789"]) expect(run.stdout).not.toContain(secret);
    expect(run.stdout).toContain(`the file ${file}`);
    const lines = run.stdout.split("\n");
    expect(lines).toEqual(
      expect.arrayContaining([
        "  port: 9100 # $PORT",
        "  bodyLimitBytes: 2048 # file",
        "  shutdownGraceMs: 10000 # default",
        '  masterKey: "***" # $GATEWAY_MASTER_KEY',
        "  keys: # file",
        '    - key: "***"',
        "      name: ci",
        '      apiKey: "***"',
        '  password: "***" # $CLICKHOUSE_PASSWORD',
        '  alertWebhookSecret: "***" # $GATEWAY_ALERT_WEBHOOK_SECRET',
        "  url: redis://:***@cache:6379/0 # $REDIS_URL",
      ]),
    );
    // The same configuration as --json gives, written as YAML.
    const json = await runCli(["config", "--json"], env);
    expect(parse(run.stdout)).toEqual(JSON.parse(json.stdout).config);
  });

  it("--json: the file, the configuration and each option's source, for scripts", async () => {
    const run = await runCli(["config", "--json"], env);
    expect(run.code).toBe(0);
    for (const secret of [...secrets, "file-key-0123456789"]) expect(run.stdout).not.toContain(secret);
    const { file: read, config, sources } = JSON.parse(run.stdout);
    expect(read).toBe(file);
    expect(config.server).toEqual({
      port: 9100,
      bodyLimitBytes: 2048,
      bodyDepthLimit: 128,
      host: "127.0.0.1",
      shutdownGraceMs: 10000,
    });
    expect(config.providers[0].options.apiKey).toBe("***");
    expect(sources["server.port"]).toEqual({ from: "environment", variable: "PORT" });
    expect(sources["server.bodyLimitBytes"]).toEqual({ from: "file" });
    expect(sources["server.shutdownGraceMs"]).toEqual({ from: "default" });
    expect(sources.providers).toEqual({ from: "file" });
    expect(sources["clickhouse.password"]).toEqual({ from: "environment", variable: "CLICKHOUSE_PASSWORD" });
  });

  it("refuses a wrong configuration as start does: exit 2, naming the option and the variable that set it", async () => {
    const run = await runCli(["config"], { ...env, PORT: "eighty" });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/server\.port: Expected integer.* \(from PORT\)/);
    expect(run.stdout).toBe("");
  });

  it("loads none of the gateway's heavy modules (Kafka, Redis, ClickHouse, fastify, pino, undici)", () => {
    const root = fileURLToPath(new URL("../../", import.meta.url));
    const probe = [
      'import { createRequire } from "node:module";',
      'const { configCommand } = await import("./bin/config.ts");',
      "await configCommand([]);",
      "const packages = Object.keys(createRequire(import.meta.url).cache)",
      "  .map((path) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(path)?.[1] ?? path);",
      "process.stderr.write(JSON.stringify([...new Set(packages)].sort()));",
    ].join("\n");
    const run = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", probe], {
      cwd: root,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", GATEWAY_CONFIG: file, OA_KEY: "k" },
      encoding: "utf8",
    });
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stderr)).toEqual(["esbuild", "tsx", "yaml"]);
  });
});
