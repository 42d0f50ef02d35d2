import { type StaticDecode, Type as T, type TSchema } from "@sinclair/typebox";

/** Every section defaults to `{}` so that a file only names what it changes. */
function section<P extends Record<string, TSchema>>(properties: P, description: string) {
  return T.Object(properties, { default: {}, additionalProperties: false, description });
}

/**
 * A list that also accepts one comma-separated string, because lists often arrive through one
 * environment variable (`KAFKA_BROKERS=a:9092,b:9092`).
 */
function list(description: string) {
  return T.Transform(T.Union([T.Array(T.String({ minLength: 1 })), T.String()], { default: [], description }))
    .Decode((value) =>
      typeof value === "string"
        ? value
            .split(",")
            .map((item) => item.trim())
            .filter((item) => item.length > 0)
        : value,
    )
    .Encode((value) => value);
}

export const ConfigSchema = T.Object(
  {
    server: section(
      {
        host: T.String({ default: "0.0.0.0", description: "Interface the HTTP server binds to." }),
        port: T.Integer({
          minimum: 0,
          maximum: 65535,
          default: 8080,
          description: "HTTP port (0 = any free port).",
        }),
        bodyLimitBytes: T.Integer({
          minimum: 1024,
          default: 4 * 1024 * 1024,
          description: "Largest request body accepted; larger bodies get a 413 in the caller's error shape.",
        }),
        shutdownGraceMs: T.Integer({
          minimum: 0,
          default: 10_000,
          description: "On SIGINT/SIGTERM, how long in-flight work may take to finish before it is cut.",
        }),
      },
      "The HTTP edge.",
    ),
    log: section(
      {
        level: T.Union(
          ["fatal", "error", "warn", "info", "debug", "trace", "silent"].map((level) => T.Literal(level)),
          { default: "info", description: "Lowest level written to stdout (JSON lines)." },
        ),
      },
      "Structured logs (pino).",
    ),
    kafka: section(
      {
        brokers: list(
          "Kafka bootstrap brokers. Empty: the in-process bus (single process, nothing to install).",
        ),
        clientId: T.String({
          default: "ai-gateway",
          description: "Kafka client id, visible in broker logs.",
        }),
        topicPrefix: T.String({
          default: "gateway.",
          description: "Prefix of every topic the gateway uses.",
        }),
      },
      "The message bus between ingress and workers.",
    ),
    redis: section(
      {
        url: T.String({
          default: "",
          description:
            "Redis URL (redis://host:port/db). Empty: in-process cache and state (single process only).",
        }),
        keyPrefix: T.String({ default: "gw:", description: "Prefix of every Redis key the gateway writes." }),
      },
      "Shared cache and state.",
    ),
    clickhouse: section(
      {
        url: T.String({
          default: "",
          description: "ClickHouse HTTP URL. Empty: an embedded ClickHouse (chdb) started by the gateway.",
        }),
        username: T.String({ default: "default", description: "ClickHouse user." }),
        password: T.String({
          default: "",
          description: "ClickHouse password; give it through an environment variable.",
        }),
        database: T.String({
          default: "gateway",
          pattern: "^[A-Za-z_][A-Za-z0-9_]*$",
          description: "Database holding the gateway's tables; created when missing.",
        }),
        dataDir: T.String({
          default: "./data/clickhouse",
          description: "Where the embedded ClickHouse keeps its data (ignored when url is set).",
        }),
      },
      "Analytics store.",
    ),
  },
  { additionalProperties: false },
);

export type GatewayConfig = StaticDecode<typeof ConfigSchema>;
