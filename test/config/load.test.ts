import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TSchema } from "@sinclair/typebox";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ConfigError, defaultConfigPath, loadConfig, parseConfig } from "../../config/load.ts";
import { ConfigSchema } from "../../config/schema.ts";

const dir = mkdtempSync(join(tmpdir(), "gateway-config-"));
function fileWith(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
function problemsOf(action: () => unknown): string[] {
  try {
    action();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("configuration", () => {
  it("starts from the documented default file with no environment at all", () => {
    const config = loadConfig({});
    expect(config.server.port).toBe(8080);
    expect(config.kafka.brokers).toEqual([]);
    expect(config.redis.url).toBe("");
    expect(config.clickhouse.url).toBe("");
    expect(config.clickhouse.dataDir).toBe("./data/clickhouse");
  });

  it("takes connection settings and secrets from the environment", () => {
    const config = loadConfig({
      PORT: "9999",
      KAFKA_BROKERS: "kafka-1:9092, kafka-2:9092",
      REDIS_URL: "redis://cache:6379/2",
      CLICKHOUSE_URL: "http://clickhouse:8123",
      CLICKHOUSE_PASSWORD: "s3cret",
    });
    expect(config.server.port).toBe(9999);
    expect(config.kafka.brokers).toEqual(["kafka-1:9092", "kafka-2:9092"]);
    expect(config.redis.url).toBe("redis://cache:6379/2");
    expect(config.clickhouse).toMatchObject({ url: "http://clickhouse:8123", password: "s3cret" });
  });

  it("reads another file named by GATEWAY_CONFIG, JSON included, with defaults for what it leaves out", () => {
    const path = fileWith(
      "gateway.json",
      JSON.stringify({ server: { port: 7000 }, kafka: { brokers: ["k:9092"] } }),
    );
    const config = loadConfig({ GATEWAY_CONFIG: path });
    expect(config.server).toMatchObject({ port: 7000, host: "0.0.0.0", bodyLimitBytes: 4 * 1024 * 1024 });
    expect(config.kafka.brokers).toEqual(["k:9092"]);
    expect(config.log.level).toBe("info");
  });

  it("names every unknown key and every wrong value", () => {
    const problems = problemsOf(() =>
      parseConfig("server:\n  prot: 80\n  port: eighty\nlog:\n  level: loud\nextra: 1\n", "x.yaml", {}),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^server\.prot: Unexpected property/),
        expect.stringMatching(/^server\.port: Expected integer/),
        expect.stringMatching(/^log\.level: /),
        expect.stringMatching(/^extra: Unexpected property/),
      ]),
    );
  });

  it("rejects values outside their range", () => {
    expect(problemsOf(() => parseConfig("server:\n  port: 70000\n", "x.yaml", {}))).toEqual([
      expect.stringMatching(/^server\.port: Expected integer to be less or equal to 65535/),
    ]);
    expect(problemsOf(() => parseConfig("clickhouse:\n  database: 'x; DROP'\n", "x.yaml", {}))).toEqual([
      expect.stringMatching(/^clickhouse\.database: /),
    ]);
  });

  it("names the key whose environment variable is missing", () => {
    expect(problemsOf(() => parseConfig("redis:\n  url: ${MY_REDIS}\n", "x.yaml", {}))).toEqual([
      "redis.url: environment variable MY_REDIS is not set",
    ]);
  });

  it("interpolates inside strings, keeps a value with YAML syntax intact, and writes $${ as a literal", () => {
    const config = parseConfig(
      "clickhouse:\n  url: http://${HOST}:8123\n  password: ${PASS}\n  username: $${USER}\n",
      "x.yaml",
      { HOST: "db", PASS: "a: b\n- [c]" },
    );
    expect(config.clickhouse).toMatchObject({
      url: "http://db:8123",
      password: "a: b\n- [c]",
      username: "${USER}",
    });
  });

  it("reports YAML syntax errors and unreadable files with the file's name", () => {
    const broken = fileWith("broken.yaml", "server: [1, 2\n");
    expect(() => loadConfig({ GATEWAY_CONFIG: broken })).toThrow(/invalid configuration in .*broken\.yaml/);
    expect(() => loadConfig({ GATEWAY_CONFIG: join(dir, "missing.yaml") })).toThrow(
      /missing\.yaml[\s\S]*cannot read/,
    );
  });

  it("documents every option in the default file", () => {
    const documented = parse(readFileSync(defaultConfigPath, "utf8")) as Record<
      string,
      Record<string, unknown>
    >;
    const missing = leafKeys(ConfigSchema).filter(([section, key]) => !(key in (documented[section] ?? {})));
    expect(missing).toEqual([]);
  });
});

function leafKeys(schema: TSchema): Array<[string, string]> {
  return Object.entries(schema.properties as Record<string, TSchema>).flatMap(([section, sub]) =>
    Object.keys(sub.properties as Record<string, TSchema>).map((key): [string, string] => [section, key]),
  );
}
