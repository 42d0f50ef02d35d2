import { Type as T } from "@sinclair/typebox";
import { list, oneOf, section } from "./schema-kit.ts";

/** The sections of the configuration about analytics, governance, batch jobs and the services the gateway runs on. */

export const analyticsSection = section(
  {
    sink: T.Object(
      {
        maxWaitMs: T.Integer({
          minimum: 10,
          default: 5000,
          description:
            "An event waits at most about this long before it is stored (the time bound of a batch): each insert costs ClickHouse about the same CPU whatever its size, so fewer, larger ones cost it less (BENCHMARKS.md).",
        }),
        minBatchBytes: T.Integer({
          minimum: 1,
          default: 1_048_576,
          description: "A batch is stored as soon as this much has gathered, before maxWaitMs.",
        }),
        maxBatchBytes: T.Integer({
          minimum: 1024,
          default: 16_777_216,
          description: "The most of one partition a batch holds (the size bound of one insert).",
        }),
      },
      {
        default: {},
        additionalProperties: false,
        description: "How the sink batches events into ClickHouse.",
      },
    ),
    content: T.Object(
      {
        store: T.Boolean({
          default: false,
          description: "Store prompts and completions with each request (off: they never leave the ingress).",
        }),
        redact: T.Array(T.String({ minLength: 1 }), {
          default: [],
          description:
            "Regular expressions whose matches are replaced by [REDACTED] before content is stored.",
        }),
      },
      {
        default: {},
        additionalProperties: false,
        description: "Prompt and completion text in analytics.",
      },
    ),
    retentionDays: T.Integer({
      minimum: 0,
      default: 0,
      description: "Days the requests and attempts rows are kept (0: for ever); ClickHouse drops older ones.",
    }),
    rollupRetentionDays: T.Integer({
      minimum: 0,
      default: 0,
      description: "Days the per-minute rollups are kept (0: for ever); usually longer than the rows.",
    }),
    auditRetentionDays: T.Integer({
      minimum: 0,
      default: 0,
      description: "Days the audit log is kept (0: for ever); compliance often asks for a year or more.",
    }),
    query: T.Object(
      {
        maxExecutionSeconds: T.Integer({
          minimum: 1,
          default: 10,
          description: "An admin's SQL query or report is stopped after this long.",
        }),
        maxResultRows: T.Integer({
          minimum: 1,
          default: 10_000,
          description: "An admin's query returning more rows fails (add a LIMIT or aggregate).",
        }),
        maxMemoryBytes: T.Integer({
          minimum: 1_048_576,
          default: 1_073_741_824,
          description: "An admin's query using more memory in ClickHouse fails.",
        }),
        password: T.String({
          default: "",
          description:
            "Password of the ClickHouse user <database>_reader that admin SQL runs as; the same on the " +
            "sink and the ingress. Empty: made anew at each start on the embedded ClickHouse, admin SQL off " +
            "with a ClickHouse server.",
        }),
      },
      {
        default: {},
        additionalProperties: false,
        description:
          "Admin SQL and the named reports: the read-only ClickHouse user they run as, and its limits.",
      },
    ),
  },
  "Events into ClickHouse (docs/analytics.md).",
);

export const governanceSection = section(
  {
    directory: T.String({
      default: "./data/governance",
      description:
        "Where the key and team log is kept without Kafka (one process). With Kafka it is a compacted topic.",
    }),
    defaultMaxOutputTokens: T.Integer({
      minimum: 1,
      default: 4096,
      description:
        "A request that names no max_tokens is held against budgets as if it could write this many tokens, and a call lost with its worker is billed as if it wrote them.",
    }),
    softLimitPercent: T.Integer({
      minimum: 1,
      maximum: 100,
      default: 80,
      description: "Share of a budget whose crossing raises an alert, unless the budget names its own.",
    }),
    alertWebhookUrl: T.String({
      default: "",
      description:
        "Budget alerts are POSTed here as JSON (signed with alertWebhookSecret when set); empty: events only.",
    }),
    alertWebhookSecret: T.String({
      default: "",
      description:
        "HMAC key signing each alert (x-gateway-signature); give it through an environment variable. Empty: unsigned.",
    }),
    maxTokens: T.Integer({
      minimum: 0,
      default: 0,
      description: "Largest max_tokens a request may ask, unless its key says otherwise; 0: no bound.",
    }),
    maxN: T.Integer({
      minimum: 1,
      default: 16,
      description: "Largest n (choices per request), unless its key says otherwise.",
    }),
    maxConcurrentStreams: T.Integer({
      minimum: 0,
      default: 0,
      description: "Streams one key may hold open at once, unless the key says otherwise; 0: no bound.",
    }),
  },
  "Virtual keys, teams, budgets, rate limits and consumption limits (docs/governance.md).",
);

export const batchesSection = section(
  {
    directory: T.String({
      default: "./data/batches",
      description:
        "Where files and batch jobs are kept without Redis (one process). With redis.url set they live in Redis.",
    }),
    maxFileBytes: T.Integer({
      minimum: 1024,
      default: 200 * 1024 * 1024,
      description: "Largest file accepted by POST /v1/files (OpenAI's limit is 200 MB).",
    }),
    maxLines: T.Integer({
      minimum: 1,
      default: 50_000,
      description: "Most requests (lines) in one batch, as OpenAI.",
    }),
    completionWindows: T.Array(T.String({ pattern: "^[1-9][0-9]*[smh]$" }), {
      default: ["24h"],
      description:
        "The completion_window values a batch may ask for (e.g. 24h, 30m); a batch not done within it expires.",
    }),
    tickMs: T.Integer({
      minimum: 10,
      default: 500,
      description: "How often a coordinator looks for batches to take over, feed, expire or finalize.",
    }),
    leaseMs: T.Integer({
      minimum: 1000,
      default: 10_000,
      description:
        "A coordinator that stops renewing its lease on a batch for this long loses it to another.",
    }),
    cancelGraceMs: T.Integer({
      minimum: 0,
      default: 600_000,
      description:
        "A cancelled batch waits this long at most for the lines already running before it is cancelled for good.",
    }),
  },
  "Batch jobs: the OpenAI Files and Batch APIs and Anthropic's Message Batches (docs/batches.md).",
);

export const responsesSection = section(
  {
    directory: T.String({
      default: "./data/responses",
      description:
        "Where stored responses are kept without Redis (one process). With redis.url set they live in Redis.",
    }),
    ttlSeconds: T.Integer({
      minimum: 1,
      default: 30 * 24 * 3600,
      description:
        "A stored response is kept this long after it was made, or after the newest response continuing it (OpenAI keeps 30 days).",
    }),
  },
  "The Responses API's stored responses: previous_response_id, GET and DELETE /v1/responses/{id} (docs/providers.md).",
);

export const tracingSection = section(
  {
    endpoint: T.String({
      default: "",
      description: "OTLP/HTTP traces endpoint, e.g. http://collector:4318/v1/traces. Empty: no tracing.",
    }),
    sampleRatio: T.Number({
      minimum: 0,
      maximum: 1,
      default: 1,
      description: "Share of new traces recorded; a caller's traceparent keeps its own decision.",
    }),
    serviceName: T.String({ default: "ai-gateway", description: "service.name of the spans." }),
  },
  "OpenTelemetry traces: ingress → bus → worker → provider (docs/analytics.md).",
);

export const kafkaSection = section(
  {
    brokers: list("Kafka bootstrap brokers. Empty: the in-process bus (single process, nothing to install)."),
    clientId: T.String({
      default: "ai-gateway",
      description: "Kafka client id, visible in broker logs.",
    }),
    topicPrefix: T.String({
      default: "gateway.",
      description: "Prefix of every topic the gateway uses.",
    }),
    partitions: T.Integer({
      minimum: 1,
      default: 12,
      description:
        "Partitions of each request topic the gateway creates: the most workers sharing a priority.",
    }),
    eventPartitions: T.Integer({
      minimum: 1,
      default: 3,
      description:
        "Partitions of the events topics: the most sink processes sharing them (a sink stores each table's events of one fetch, whatever their partitions, with one ClickHouse insert).",
    }),
    replicationFactor: T.Integer({
      minimum: 1,
      default: 1,
      description: "Replicas of each topic the gateway creates.",
    }),
    sessionTimeoutMs: T.Integer({
      minimum: 3000,
      default: 10_000,
      description: "How long a silent worker keeps its partitions before Kafka hands its requests to others.",
    }),
    client: oneOf(["platformatic", "kafkajs"], {
      default: "platformatic",
      description:
        "The Kafka client that produces and consumes requests, events and batch results: @platformatic/kafka, which needs less CPU a request and has the shorter tail (BENCHMARKS.md), or kafkajs. Dead letters, the key store and topic administration stay on kafkajs.",
    }),
  },
  "The message bus between ingress and workers.",
);

export const redisSection = section(
  {
    url: T.String({
      default: "",
      description:
        "Redis URL (redis://host:port/db). Empty: in-process cache and state (single process only).",
    }),
    keyPrefix: T.String({ default: "gw:", description: "Prefix of every Redis key the gateway writes." }),
  },
  "Shared cache and state.",
);

export const clickhouseSection = section(
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
);
