import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, loadConfigWithSources, parseConfig } from "../../config/load.ts";
import { createRouteTable } from "../../config/routes.ts";

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
    expect(config.server).toMatchObject({ host: "127.0.0.1", port: 8080 });
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
      JSON.stringify({
        server: { port: 7000 },
        kafka: { brokers: ["k:9092"] },
        redis: { url: "redis://r:6379" },
      }),
    );
    const config = loadConfig({ GATEWAY_CONFIG: path });
    expect(config.server).toMatchObject({ port: 7000, host: "127.0.0.1", bodyLimitBytes: 4 * 1024 * 1024 });
    expect(config.kafka.brokers).toEqual(["k:9092"]);
    expect(config.log.level).toBe("info");
  });

  it("names every unknown key and every wrong value", () => {
    const problems = problemsOf(() =>
      parseConfig("server:\n  prot: 80\n  port: eighty\nlog:\n  level: loud\nextra: 1\n", "x.yaml", {}),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        "server.prot: Unexpected property: did you mean port?",
        expect.stringMatching(/^server\.port: Expected integer/),
        "log.level: must be one of fatal, error, warn, info, debug, trace, silent",
        expect.stringMatching(/^extra: Unexpected property \(this section takes server, log, auth, /),
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

  it("checks references between sections and each provider's own options", () => {
    const problems = problemsOf(() =>
      parseConfig(
        [
          "providers:",
          "  - { name: local, type: mock, options: { tokensPerSecond: fast } }",
          "  - { name: local, type: mock, options: { colour: blue } }",
          "models:",
          "  - { name: gpt-4o, provider: openai }",
          "kafka:",
          "  brokers: k:9092",
        ].join("\n"),
        "x.yaml",
        {},
      ),
    );
    expect(problems).toEqual([
      "providers.0.options.tokensPerSecond: Expected number",
      'providers.1.name: "local" is defined twice',
      "providers.1.options.colour: Unexpected property (this section takes tokensPerSecond, embeddingDimensions)",
      'models.0.provider: no provider is named "openai"',
      "redis.url: the Kafka bus (kafka.brokers, $KAFKA_BROKERS) needs Redis for replies, cancels and claims: set REDIS_URL (or redis.url)",
    ]);
  });

  it("resolves a route's own failover settings over the global ones, and names a bad one", () => {
    const config = parseConfig(
      [
        "providers: [{ name: p, type: mock }]",
        "routing: { maxAttempts: 3, breakerFailures: 7 }",
        "models:",
        "  - { name: quick, provider: p, failover: { maxAttempts: 1, backoffMs: 0, retryBudget: 0 } }",
        "  - { name: plain, provider: p }",
      ].join("\n"),
      "x.yaml",
      {},
    );
    expect(config.models[1]?.failover).toBeUndefined();
    const routes = createRouteTable(config.models, undefined, config.routing);
    const global = {
      maxAttempts: 3,
      backoffMs: 250,
      maxBackoffMs: 8000,
      retryBudget: 0.2,
      minRetriesPerSecond: 5,
      breakerFailures: 7,
      breakerWindowMs: 10_000,
      breakerCooldownMs: 30_000,
    };
    expect(routes.resolve("quick")).toMatchObject({
      failover: { ...global, maxAttempts: 1, backoffMs: 0, retryBudget: 0 },
      ownRetryBudget: true,
    });
    expect(routes.resolve("plain")).toMatchObject({ failover: global, ownRetryBudget: false });

    const bad =
      "providers: [{ name: p, type: mock }]\nmodels:\n  - name: m\n    provider: p\n    failover:\n";
    expect(
      problemsOf(() => parseConfig(`${bad}      maxAttempts: 0\n      breakerFailure: 2\n`, "x.yaml", {})),
    ).toEqual([
      "models.0.failover.breakerFailure: Unexpected property: did you mean breakerFailures?",
      "models.0.failover.maxAttempts: Expected integer to be greater or equal to 1",
    ]);
    expect(problemsOf(() => parseConfig(`${bad}      retryBudget: lots\n`, "x.yaml", {}))).toEqual([
      "models.0.failover.retryBudget: Expected number",
    ]);
  });

  it("reads gateway keys from GATEWAY_KEYS or from objects with a name and priority", () => {
    expect(loadConfig({ GATEWAY_KEYS: "key-one-123, key-two-456" }).auth.keys).toEqual([
      { key: "key-one-123" },
      { key: "key-two-456" },
    ]);
    const config = parseConfig(
      "auth:\n  keys:\n    - plain-key-1\n    - { key: batch-key-1, name: nightly, priority: batch }\n",
      "x.yaml",
      {},
    );
    expect(config.auth.keys).toEqual([
      { key: "plain-key-1" },
      { key: "batch-key-1", name: "nightly", priority: "batch" },
    ]);
  });

  it("writes out in gateway.yaml every option, each with exactly its built-in default", () => {
    const documented = loadConfigWithSources({});
    const unwritten = Object.entries(documented.sources).filter(([, source]) => source.from !== "file");
    expect(unwritten).toEqual([]);
    expect(documented.config).toEqual(parseConfig("", "empty.yaml", {}));
  });
});
