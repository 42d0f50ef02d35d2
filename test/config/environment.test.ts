import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseDocument, stringify } from "yaml";
import { environmentVariables } from "../../config/environment.ts";
import { ConfigError, defaultConfigPath, loadConfig } from "../../config/load.ts";
import { optionsOf, valueAt } from "../../config/options.ts";
import { ConfigSchema } from "../../config/schema.ts";

const dir = mkdtempSync(join(tmpdir(), "gateway-environment-"));
/** A minimal configuration file of one's own. */
function fileWith(name: string, settings: Record<string, unknown>): string {
  const path = join(dir, name);
  writeFileSync(path, stringify(settings));
  return path;
}

/** What gateway.yaml documents, read with no environment at all. */
const documented = loadConfig({});
const allOptions = optionsOf(ConfigSchema);

interface Case {
  variable: string;
  value: string;
  /** The file: it sets what the variable names to something else (plus what that needs). */
  file: Record<string, unknown>;
  /** The options the variable names, as they must come out. */
  wins: Record<string, unknown>;
}

const cases: Case[] = [
  {
    variable: "HOST",
    value: "10.1.2.3",
    file: { server: { host: "192.168.7.7" } },
    wins: { "server.host": "10.1.2.3" },
  },
  { variable: "PORT", value: "9100", file: { server: { port: 7000 } }, wins: { "server.port": 9100 } },
  {
    variable: "GATEWAY_SHUTDOWN_GRACE_MS",
    value: "25000",
    file: { server: { shutdownGraceMs: 3000 } },
    wins: { "server.shutdownGraceMs": 25_000 },
  },
  {
    variable: "GATEWAY_KEYS",
    value: "env-key-0001, env-key-0002",
    file: { auth: { keys: ["file-key-0001"] } },
    wins: { "auth.keys": [{ key: "env-key-0001" }, { key: "env-key-0002" }] },
  },
  {
    variable: "GATEWAY_MASTER_KEY",
    value: "env-master-key",
    file: { auth: { masterKey: "file-master-key" } },
    wins: { "auth.masterKey": "env-master-key" },
  },
  {
    variable: "GATEWAY_DATA_DIR",
    value: "/srv/gateway/",
    file: {
      auth: { generatedKeyFile: "/file/key.sha256" },
      governance: { directory: "/file/governance" },
      batches: { directory: "/file/batches" },
      responses: { directory: "/file/responses" },
      clickhouse: { dataDir: "/file/clickhouse" },
    },
    wins: {
      "auth.generatedKeyFile": "/srv/gateway/gateway-key.sha256",
      "governance.directory": "/srv/gateway/governance",
      "batches.directory": "/srv/gateway/batches",
      "responses.directory": "/srv/gateway/responses",
      "clickhouse.dataDir": "/srv/gateway/clickhouse",
    },
  },
  { variable: "LOG_LEVEL", value: "debug", file: { log: { level: "warn" } }, wins: { "log.level": "debug" } },
  {
    variable: "LOG_FORMAT",
    value: "json",
    file: { log: { format: "pretty" } },
    wins: { "log.format": "json" },
  },
  {
    variable: "GATEWAY_ALERT_WEBHOOK_URL",
    value: "https://alerts.example/env",
    file: { governance: { alertWebhookUrl: "https://alerts.example/file" } },
    wins: { "governance.alertWebhookUrl": "https://alerts.example/env" },
  },
  {
    variable: "GATEWAY_ALERT_WEBHOOK_SECRET",
    value: "env-webhook-secret",
    file: { governance: { alertWebhookSecret: "file-webhook-secret" } },
    wins: { "governance.alertWebhookSecret": "env-webhook-secret" },
  },
  {
    variable: "KAFKA_BROKERS",
    value: "env-kafka-1:9092,env-kafka-2:9092",
    file: { kafka: { brokers: ["file-kafka:9092"] }, redis: { url: "redis://file-redis:6379" } },
    wins: { "kafka.brokers": ["env-kafka-1:9092", "env-kafka-2:9092"] },
  },
  {
    variable: "KAFKA_TOPIC_PREFIX",
    value: "prod.gateway.",
    file: { kafka: { topicPrefix: "file." } },
    wins: { "kafka.topicPrefix": "prod.gateway." },
  },
  {
    variable: "KAFKA_PARTITIONS",
    value: "48",
    file: { kafka: { partitions: 6 } },
    wins: { "kafka.partitions": 48 },
  },
  {
    variable: "KAFKA_REPLICATION_FACTOR",
    value: "3",
    file: { kafka: { replicationFactor: 2 } },
    wins: { "kafka.replicationFactor": 3 },
  },
  {
    variable: "REDIS_URL",
    value: "redis://env-redis:6379/1",
    file: { redis: { url: "redis://file-redis:6379/0" } },
    wins: { "redis.url": "redis://env-redis:6379/1" },
  },
  {
    variable: "CLICKHOUSE_URL",
    value: "http://env-clickhouse:8123",
    file: { clickhouse: { url: "http://file-clickhouse:8123" } },
    wins: { "clickhouse.url": "http://env-clickhouse:8123" },
  },
  {
    variable: "CLICKHOUSE_USER",
    value: "env-user",
    file: { clickhouse: { username: "file-user" } },
    wins: { "clickhouse.username": "env-user" },
  },
  {
    variable: "CLICKHOUSE_PASSWORD",
    value: "env-password",
    file: { clickhouse: { password: "file-password" } },
    wins: { "clickhouse.password": "env-password" },
  },
  {
    variable: "CLICKHOUSE_READER_PASSWORD",
    value: "env-reader-password",
    file: { analytics: { query: { password: "file-reader-password" } } },
    wins: { "analytics.query.password": "env-reader-password" },
  },
  {
    variable: "GATEWAY_SESSION_SECRET",
    value: "env-session-secret",
    file: { dashboard: { sessionSecret: "file-session-secret" } },
    wins: { "dashboard.sessionSecret": "env-session-secret" },
  },
  {
    variable: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    value: "http://env-collector:4318/v1/traces",
    file: { tracing: { endpoint: "http://file-collector:4318/v1/traces" } },
    wins: { "tracing.endpoint": "http://env-collector:4318/v1/traces" },
  },
];

describe("each documented environment variable, over a file of one's own", () => {
  it.each(cases)(
    "$variable wins over the file; what the file leaves out keeps its documented default",
    ({ variable, value, file, wins }) => {
      const path = fileWith(`${variable}.yaml`, file);
      const config = loadConfig({ GATEWAY_CONFIG: path, [variable]: value });
      for (const [option, expected] of Object.entries(wins))
        expect(valueAt(config, option), option).toEqual(expected);
      // Set but empty, it is not set: the file's values stand.
      expect(loadConfig({ GATEWAY_CONFIG: path, [variable]: "" })).toEqual(
        loadConfig({ GATEWAY_CONFIG: path }),
      );

      const leftOut = allOptions.filter((option) => !(option in wins) && valueAt(file, option) === undefined);
      for (const option of leftOut)
        expect(valueAt(config, option), option).toEqual(valueAt(documented, option));
    },
  );
});

describe("the table of environment variables (config/environment.ts)", () => {
  const table = Object.entries(environmentVariables).map(([variable, options]) => ({
    variable,
    options: Object.keys(options),
  }));

  it("has a test above for each variable, and sets options of the configuration only", () => {
    expect(cases.map((tested) => tested.variable).sort()).toEqual(Object.keys(environmentVariables).sort());
    for (const { options } of table) for (const option of options) expect(allOptions).toContain(option);
  });

  it("is README's table, variable by variable and option by option", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const section = readme.slice(readme.indexOf("| environment variable | option |"));
    const rows = section
      .slice(0, section.indexOf("\n\n"))
      .split("\n")
      .slice(2)
      .map((row) => row.split("|").map((cell) => [...cell.matchAll(/`([^`]+)`/g)].map((match) => match[1])));
    const byName = (a: { variable?: string }, b: { variable?: string }) =>
      String(a.variable).localeCompare(String(b.variable));
    expect(
      rows.map(([, variables, options]) => ({ variable: variables?.[0], options })).sort(byName),
    ).toEqual([...table].sort(byName));
  });

  it("is written beside each option it sets in gateway.yaml", () => {
    const file = parseDocument(readFileSync(defaultConfigPath, "utf8"));
    for (const { variable, options } of table) {
      for (const option of options) {
        const node = file.getIn(option.split("."), true) as { comment?: string } | undefined;
        expect(node?.comment, option).toContain(`$${variable}`);
      }
    }
  });

  it("puts GATEWAY_DATA_DIR's paths where the defaults put them under ./data", () => {
    for (const [option, derive] of Object.entries(environmentVariables.GATEWAY_DATA_DIR))
      expect(derive("./data"), option).toBe(valueAt(documented, option));
  });

  it("names the variable when its value is wrong", () => {
    const path = fileWith("port.yaml", { server: { port: 7000 } });
    let problems: string[] = [];
    try {
      loadConfig({ GATEWAY_CONFIG: path, PORT: "eighty" });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems = error.problems;
    }
    expect(problems).toEqual([expect.stringMatching(/^server\.port: Expected integer.* \(from PORT\)$/)]);
  });
});
