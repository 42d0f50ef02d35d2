import { type SchemaOptions, Type as T } from "@sinclair/typebox";
import { priceSchema } from "./pricing/price-schema.ts";
import { overrides } from "./schema-kit.ts";

/** What a route's guardrails can redact (governance/guardrails/pii.ts finds each). */
export const piiKinds = ["email", "phone", "card", "secret"] as const;
export type PiiKind = (typeof piiKinds)[number];

/** How a route orders its deployments before trying them; see docs/routing.md. */
export const routingStrategies = ["weighted", "priority", "latency", "cost"] as const;

const strategy = (options: SchemaOptions) =>
  T.Unsafe<(typeof routingStrategies)[number]>(
    T.Union(
      routingStrategies.map((name) => T.Literal(name)),
      options,
    ),
  );

const deployment = T.Object(
  {
    provider: T.String({ minLength: 1, description: "Name of the provider account serving it." }),
    model: T.Optional(
      T.String({ minLength: 1, description: "The provider's model name (default: the name asked)." }),
    ),
    name: T.Optional(
      T.String({
        minLength: 1,
        description: "Name in events and breaker state (default: provider/model); share it to share health.",
      }),
    ),
    weight: T.Number({ exclusiveMinimum: 0, default: 1, description: "Share of traffic under `weighted`." }),
    quality: T.Number({
      default: 0,
      description: "Your own score of its answers, for callers asking x-gateway-min-quality.",
    }),
    price: T.Optional(
      T.Object(priceSchema.properties, {
        additionalProperties: false,
        description: "What it costs here (default: the price table's entry for its provider and model).",
      }),
    ),
    limits: T.Object(
      {
        requestsPerMinute: T.Optional(T.Integer({ minimum: 1, description: "The account's RPM for it." })),
        tokensPerMinute: T.Optional(
          T.Integer({
            minimum: 1,
            description: "The account's TPM for it (prompt + max output, estimated).",
          }),
        ),
        concurrency: T.Optional(T.Integer({ minimum: 1, description: "Calls at once, across all workers." })),
      },
      {
        default: {},
        additionalProperties: false,
        description: "Quotas counted across every worker; a deployment over one is skipped for the next.",
      },
    ),
  },
  { additionalProperties: false },
);

/**
 * Retries, the retry budget and circuit breakers: set for every route under `routing`, and for
 * one route under its `failover` (each field optional there, the global one otherwise).
 */
export const failoverSchema = T.Object({
  maxAttempts: T.Integer({
    minimum: 1,
    default: 4,
    description: "Provider calls per request at most, failovers and retries included.",
  }),
  backoffMs: T.Integer({
    minimum: 0,
    default: 250,
    description: "First pause before trying a deployment again; doubles each time, with full jitter.",
  }),
  maxBackoffMs: T.Integer({
    minimum: 0,
    default: 8000,
    description:
      "Longest pause between tries; also the longest a request waits for an open breaker to half-open.",
  }),
  retryBudget: T.Number({
    minimum: 0,
    default: 0.2,
    description:
      "Extra provider calls (retries, failovers) allowed per first call: 0.2 = at most 20% more load.",
  }),
  minRetriesPerSecond: T.Number({
    minimum: 0,
    default: 5,
    description: "Retries always allowed per worker process and second, so light traffic can retry.",
  }),
  breakerFailures: T.Integer({
    minimum: 1,
    default: 5,
    description: "Failures of a deployment within breakerWindowMs that open its circuit breaker.",
  }),
  breakerWindowMs: T.Integer({
    minimum: 1,
    default: 10_000,
    description: "Window counting those failures.",
  }),
  breakerCooldownMs: T.Integer({
    minimum: 1,
    default: 30_000,
    description: "How long an open breaker skips its deployment before one request probes it.",
  }),
});

/**
 * A public model name and where it is served: one deployment (`provider`, `model`) or several
 * (`deployments`), ordered by a strategy, then the routes named in `fallbacks`.
 */
export const routeSchema = T.Object(
  {
    name: T.String({
      minLength: 1,
      description: "Public model name clients send; a trailing * matches every name with that prefix.",
    }),
    provider: T.Optional(
      T.String({ minLength: 1, description: "Shorthand for one deployment: the provider serving it." }),
    ),
    model: T.Optional(
      T.String({ minLength: 1, description: "Shorthand for one deployment: the provider's model name." }),
    ),
    deployments: T.Optional(T.Array(deployment, { minItems: 1, description: "Where it is served." })),
    when: T.Optional(
      T.Object(
        {
          keys: T.Optional(T.Array(T.String(), { description: "Names of the gateway keys it is for." })),
          tags: T.Optional(
            T.Record(T.String(), T.String(), {
              description: "Tags (x-gateway-tags) the request must carry.",
            }),
          ),
          minPromptTokens: T.Optional(T.Integer({ minimum: 0, description: "Prompts at least this long." })),
          maxPromptTokens: T.Optional(T.Integer({ minimum: 0, description: "Prompts at most this long." })),
          tools: T.Optional(T.Boolean({ description: "Requests offering tools (true) or none (false)." })),
        },
        {
          additionalProperties: false,
          description:
            "Serve only matching requests; entries of one name are tried in order, the first matching serves.",
        },
      ),
    ),
    strategy: strategy({
      default: "weighted",
      description: "How the deployments are ordered for each request.",
    }),
    fallbacks: T.Array(T.String({ minLength: 1 }), {
      default: [],
      description: "Routes (public model names) tried in order once this route's deployments failed.",
    }),
    cache: T.Object(
      {
        ttlSeconds: T.Integer({
          minimum: 0,
          default: 0,
          description:
            "Keep answers this long in the exact cache (0: no caching); a request may ask for less.",
        }),
        semantic: T.Optional(
          T.Object(
            {
              embeddingModel: T.String({
                minLength: 1,
                description: "A model of this gateway that makes embeddings (through its own providers).",
              }),
              threshold: T.Number({
                minimum: 0,
                maximum: 1,
                default: 0.95,
                description: "Cosine similarity from which a kept answer is served for a new request.",
              }),
              maxEntries: T.Integer({
                minimum: 1,
                default: 500,
                description: "Answers searched per tenant and model; the oldest drop out.",
              }),
              unsafe: T.Boolean({
                default: false,
                description: "Also requests with tools or a temperature above 0 (otherwise never semantic).",
              }),
            },
            {
              additionalProperties: false,
              description: "Serve answers to similar (not only identical) requests; needs ttlSeconds > 0.",
            },
          ),
        ),
      },
      { default: {}, additionalProperties: false, description: "The gateway's answer cache for this model." },
    ),
    guardrails: T.Optional(
      T.Object(
        {
          redact: T.Array(T.Union(piiKinds.map((kind) => T.Literal(kind))), {
            default: [],
            uniqueItems: true,
            description:
              "Replaced in prompts before they leave, and in stored prompts and completions: email, phone, card (Luhn-checked), secret (API keys, tokens, private keys).",
          }),
          deny: T.Array(T.String({ minLength: 1 }), {
            default: [],
            description:
              "Regular expressions (case-insensitive); a prompt matching one is refused with a 400.",
          }),
        },
        {
          additionalProperties: false,
          description: "What this model's prompts go through first; each action is in the audit log.",
        },
      ),
    ),
    promptCacheAffinity: T.Boolean({
      default: true,
      description:
        "Under `weighted`, a tenant's requests sharing a long prompt prefix lead with one deployment.",
    }),
    batchDiscount: T.Boolean({
      default: false,
      description:
        "Its deployments bill batch-priority calls at their price's batch discount (e.g. a provider's flex tier or your contract).",
    }),
    firstTokenTimeoutMs: T.Optional(
      T.Integer({ minimum: 1, description: "Give up a deployment that sends no first token in this time." }),
    ),
    attemptTimeoutMs: T.Optional(
      T.Integer({ minimum: 1, description: "Give up a deployment whose answer takes longer than this." }),
    ),
    failover: T.Optional(
      overrides(
        failoverSchema,
        "This route's own retries, retry budget and breaker thresholds, over routing's (docs/routing.md).",
      ),
    ),
  },
  { additionalProperties: false },
);

/** Retries, breakers and latency tracking, shared by every route (a route may set its own failover). */
export const routingSchema = T.Object(
  {
    ...failoverSchema.properties,
    batchQuotaShare: T.Number({
      minimum: 0.01,
      maximum: 1,
      default: 0.8,
      description:
        "Most of a deployment's quotas (RPM, TPM, concurrency) batch-priority calls may take: the rest stays free for interactive calls.",
    }),
    promptCacheAffinityMinTokens: T.Integer({
      minimum: 0,
      default: 1024,
      description: "Prompts from this long (estimated tokens) get cache affinity; 0 turns it off everywhere.",
    }),
    circuitBreakers: T.Boolean({
      default: true,
      description: "Skip failing deployments for a while (shared by all workers); false: always call them.",
    }),
  },
  { default: {}, additionalProperties: false, description: "Failover, retries and circuit breakers." },
);
