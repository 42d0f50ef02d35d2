import { type StaticDecode, Type as T } from "@sinclair/typebox";
import { type ProviderTypeName, providerTypes } from "../workers/providers/registry.ts";
import { priceListSchema } from "./pricing/price-schema.ts";
import { routeSchema, routingSchema } from "./routes-schema.ts";
import { oneOf, perPriority, priority, section } from "./schema-kit.ts";
import {
  analyticsSection,
  batchesSection,
  clickhouseSection,
  governanceSection,
  kafkaSection,
  redisSection,
  responsesSection,
  tracingSection,
} from "./schema-sections.ts";

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
          description: "Lowest level written to stdout.",
        }),
        format: oneOf(["auto", "pretty", "json"], {
          default: "auto",
          description:
            "How log lines look: pretty = one readable, coloured line per event (time, level, message, key=value fields); json = one JSON object per line; auto = pretty when stdout is a terminal, json otherwise.",
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
    analytics: analyticsSection,
    governance: governanceSection,
    batches: batchesSection,
    responses: responsesSection,
    dashboard: section(
      {
        sessionSecret: T.String({
          default: "",
          description:
            "The HMAC key sealing dashboard sessions, the same on every ingress; empty: derived from the master key (else the generated key).",
        }),
        sessionHours: T.Number({
          minimum: 0.1,
          maximum: 720,
          default: 12,
          description: "A dashboard session ends this long after its sign-in.",
        }),
      },
      "The web dashboard at /ui (docs/dashboard.md).",
    ),
    tracing: tracingSection,
    kafka: kafkaSection,
    redis: redisSection,
    clickhouse: clickhouseSection,
  },
  { additionalProperties: false },
);

export type GatewayConfig = StaticDecode<typeof ConfigSchema>;
