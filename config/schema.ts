import { type SchemaOptions, type StaticDecode, Type as T, type TSchema } from "@sinclair/typebox";
import { type Priority, priorities } from "../schemas/request-envelope.ts";
import { type ProviderTypeName, providerTypes } from "../workers/providers/registry.ts";
import { priceListSchema } from "./pricing/price-schema.ts";
import { routeSchema, routingSchema } from "./routes-schema.ts";

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

function priority(description: string) {
  return oneOf(priorities, { default: "interactive", description });
}

/** An object with one setting per priority. */
function perPriority<S extends TSchema>(
  defaults: Record<Priority, number>,
  schema: (value: number) => S,
  description: string,
) {
  return T.Object(
    {
      interactive: schema(defaults.interactive),
      default: schema(defaults.default),
      batch: schema(defaults.batch),
    },
    { default: {}, additionalProperties: false, description },
  );
}

/** One of a list of strings, typed as their union. */
function oneOf<const Values extends readonly string[]>(values: Values, options: SchemaOptions) {
  return T.Unsafe<Values[number]>(
    T.Union(
      values.map((value) => T.Literal(value)),
      options,
    ),
  );
}

/**
 * Gateway keys: in a file, strings or objects with a name and a default priority; from the
 * environment (`GATEWAY_KEYS`), one comma-separated string.
 */
function gatewayKeys() {
  const entry = T.Object(
    {
      key: T.String({ minLength: 8 }),
      name: T.Optional(T.String({ minLength: 1 })),
      priority: T.Optional(priority("Priority of this key's requests.")),
      admin: T.Optional(T.Boolean({ description: "May call the /admin API (e.g. purge the cache)." })),
    },
    { additionalProperties: false },
  );
  return T.Transform(
    T.Union([T.String(), T.Array(T.Union([T.String({ minLength: 8 }), entry]))], {
      default: [],
      description:
        "Keys accepted in Authorization: Bearer or x-api-key. Empty: a key is generated at first start.",
    }),
  )
    .Decode((value) => {
      const items =
        typeof value === "string"
          ? value
              .split(",")
              .map((item) => item.trim())
              .filter(Boolean)
          : value;
      return items.map((item) => (typeof item === "string" ? { key: item } : item));
    })
    .Encode((value) => value);
}

export const ConfigSchema = T.Object(
  {
    server: section(
      {
        host: T.String({
          default: "127.0.0.1",
          description:
            "Interface the HTTP server binds to: this machine only, unless set (0.0.0.0: every interface).",
        }),
        port: T.Integer({
          minimum: 0,
          maximum: 65535,
          default: 8080,
          description: "HTTP port (0 = any free port).",
        }),
        bodyLimitBytes: T.Integer({
          minimum: 1024,
          default: 4 * 1024 * 1024,
          description:
            "Largest request body (or WebSocket message) accepted; larger bodies get a 413 in the caller's error shape.",
        }),
        bodyDepthLimit: T.Integer({
          minimum: 16,
          // JSON.stringify runs out of stack near 4,000 levels; Python's json refuses 1,000 (docs/governance.md).
          maximum: 1000,
          default: 128,
          description:
            "Deepest nesting of arrays and objects accepted in a JSON body, a WebSocket request's body or a batch line's body; deeper ones get a 400 naming the field.",
        }),
        shutdownGraceMs: T.Integer({
          minimum: 0,
          default: 10_000,
          description:
            "On SIGINT/SIGTERM, how long in-flight work may take to finish before it is cut; the rest of the shutdown then has 5 s.",
        }),
      },
      "The HTTP edge.",
    ),
    log: section(
      {
        level: oneOf(["fatal", "error", "warn", "info", "debug", "trace", "silent"], {
          default: "info",
          description: "Lowest level written to stdout (JSON lines).",
        }),
      },
      "Structured logs (pino).",
    ),
    auth: section(
      {
        keys: gatewayKeys(),
        masterKey: T.String({
          default: "",
          description:
            "The admin API's key (from GATEWAY_MASTER_KEY). Empty: the admin API is closed, unless a key is generated.",
        }),
        generatedKeyFile: T.String({
          default: "./data/gateway-key.sha256",
          description:
            "Where the hash of the key generated at first start is kept (used only when `keys` is empty).",
        }),
      },
      "Who may call the gateway.",
    ),
    ingress: section(
      {
        defaultPriority: priority(
          "Priority of requests whose key names none and that send no x-gateway-priority header.",
        ),
        maxInFlight: perPriority(
          { interactive: 2_000, default: 2_000, batch: 10_000 },
          (value) => T.Integer({ minimum: 1, default: value }),
          "Requests one ingress process holds open per priority; beyond it callers get 503/529 with Retry-After.",
        ),
        requestTimeoutMs: T.Integer({
          minimum: 1000,
          default: 600_000,
          description:
            "Longest a request may take from arrival to its last token; then it ends with a timeout error.",
        }),
        workerSilenceMs: T.Integer({
          minimum: 1000,
          default: 5000,
          description: "A worker that sends nothing (not even a heartbeat) this long is presumed dead.",
        }),
      },
      "The edge: limits and timeouts of inbound requests.",
    ),
    workers: section(
      {
        concurrency: T.Integer({
          minimum: 1,
          default: 256,
          description: "Requests one worker process runs at once.",
        }),
        share: perPriority(
          { interactive: 1, default: 0.9, batch: 0.5 },
          (value) => T.Number({ minimum: 0.01, maximum: 1, default: value }),
          "Most of `concurrency` each priority may use, so lower priorities leave room for higher ones.",
        ),
        batchYieldWaitMs: T.Integer({
          minimum: 0,
          default: 30,
          description:
            "Batch lines yield capacity while other requests wait longer than this to start (the batch limit halves, then grows back); 0: batch keeps its whole share.",
        }),
        heartbeatMs: T.Integer({
          minimum: 100,
          default: 1000,
          description: "A worker tells the ingress it is alive this often while a request is silent.",
        }),
      },
      "Provider-worker pools.",
    ),
    providers: T.Array(
      T.Object(
        {
          name: T.String({ minLength: 1, description: "Name that models refer to." }),
          type: oneOf(Object.keys(providerTypes) as ProviderTypeName[], {
            description: "Which adapter speaks to it.",
          }),
          options: T.Record(T.String(), T.Unknown(), {
            default: {},
            description: "The adapter's own settings.",
          }),
        },
        { additionalProperties: false },
      ),
      { default: [{ name: "mock", type: "mock" }], description: "Provider accounts the workers may call." },
    ),
    models: T.Array(routeSchema, {
      default: [
        { name: "mock", provider: "mock" },
        { name: "mock-*", provider: "mock" },
      ],
      description: "The models this gateway serves: each a route to one or more deployments.",
    }),
    routing: routingSchema,
    pricing: section(
      {
        file: T.String({
          default: "",
          description: "A price file to use instead of the bundled config/pricing/prices.yaml (same shape).",
        }),
        prices: priceListSchema,
      },
      "What each provider's models cost, to price every call (docs/analytics.md).",
    ),
    cache: section(
      {
        maxEntries: T.Integer({
          minimum: 1,
          default: 10_000,
          description:
            "Answers the in-process cache holds (without Redis); the least recently used go first.",
        }),
        maxEntryBytes: T.Integer({
          minimum: 1024,
          default: 1_048_576,
          description: "Larger answers are not cached.",
        }),
      },
      "The exact answer cache: in Redis when redis.url is set, else in the process. Routes say what is cached.",
    ),
    analytics: section(
      {
        sink: T.Object(
          {
            maxWaitMs: T.Integer({
              minimum: 10,
              default: 1000,
              description:
                "An event waits at most about this long before it is stored (the time bound of a batch).",
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
              description:
                "Store prompts and completions with each request (off: they never leave the ingress).",
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
          description:
            "Days the requests and attempts rows are kept (0: for ever); ClickHouse drops older ones.",
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
    ),
    governance: section(
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
    ),
    batches: section(
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
    ),
    tracing: section(
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
            "Partitions of the events topics: the most sink processes sharing them (each partition's batch is one ClickHouse insert).",
        }),
        replicationFactor: T.Integer({
          minimum: 1,
          default: 1,
          description: "Replicas of each topic the gateway creates.",
        }),
        sessionTimeoutMs: T.Integer({
          minimum: 3000,
          default: 10_000,
          description:
            "How long a silent worker keeps its partitions before Kafka hands its requests to others.",
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
