/** How a variable's text becomes the value of one option. */
type Derive = (value: string) => string;

const as: Derive = (value) => value;
/** A path inside the data directory, written as the defaults write it (`./data/batches`). */
const inDataDir =
  (name: string): Derive =>
  (directory) =>
    `${directory.replace(/\/+$/, "")}/${name}`;

/**
 * Every environment variable the configuration reads, with the options it sets. The one place
 * this mapping is written: the loader layers it over the file (config/load.ts), `ai-gateway config`
 * names it as a value's source, and tests hold README's table and gateway.yaml's comments to it.
 */
export const environmentVariables = {
  HOST: { "server.host": as },
  PORT: { "server.port": as },
  GATEWAY_SHUTDOWN_GRACE_MS: { "server.shutdownGraceMs": as },
  GATEWAY_KEYS: { "auth.keys": as },
  GATEWAY_MASTER_KEY: { "auth.masterKey": as },
  GATEWAY_DATA_DIR: {
    "auth.generatedKeyFile": inDataDir("gateway-key.sha256"),
    "governance.directory": inDataDir("governance"),
    "batches.directory": inDataDir("batches"),
    "responses.directory": inDataDir("responses"),
    "clickhouse.dataDir": inDataDir("clickhouse"),
  },
  LOG_LEVEL: { "log.level": as },
  LOG_FORMAT: { "log.format": as },
  GATEWAY_ALERT_WEBHOOK_URL: { "governance.alertWebhookUrl": as },
  GATEWAY_ALERT_WEBHOOK_SECRET: { "governance.alertWebhookSecret": as },
  KAFKA_BROKERS: { "kafka.brokers": as },
  KAFKA_TOPIC_PREFIX: { "kafka.topicPrefix": as },
  KAFKA_PARTITIONS: { "kafka.partitions": as },
  KAFKA_REPLICATION_FACTOR: { "kafka.replicationFactor": as },
  REDIS_URL: { "redis.url": as },
  CLICKHOUSE_URL: { "clickhouse.url": as },
  CLICKHOUSE_USER: { "clickhouse.username": as },
  CLICKHOUSE_PASSWORD: { "clickhouse.password": as },
  CLICKHOUSE_READER_PASSWORD: { "analytics.query.password": as },
  GATEWAY_SESSION_SECRET: { "dashboard.sessionSecret": as },
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: { "tracing.endpoint": as },
} satisfies Record<string, Record<string, Derive>>;

export type EnvironmentVariable = keyof typeof environmentVariables;

/** Each option a set (non-empty) variable of `env` gives a value, with that value and the variable. */
export function settingsFrom(
  env: Record<string, string | undefined>,
): Array<{ option: string; value: string; variable: EnvironmentVariable }> {
  return Object.entries(environmentVariables).flatMap(([variable, options]) => {
    const text = env[variable];
    if (text === undefined || text === "") return [];
    return Object.entries(options as Record<string, Derive>).map(([option, derive]) => ({
      option,
      value: derive(text),
      variable: variable as EnvironmentVariable,
    }));
  });
}
