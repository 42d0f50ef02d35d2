import type { Static } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import type { TokenizerEncoding } from "../schemas/token-count.ts";
import type { Price } from "./pricing/price-schema.ts";
import { failoverSchema, type PiiKind, type routingStrategies } from "./routes-schema.ts";
import type { GatewayConfig } from "./schema.ts";

/** A deployment's own quotas: requests and tokens per minute, calls at once (counted across workers). */
export interface DeploymentLimits {
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  concurrency?: number;
}

/** A route's guardrails, as configured (`guardrails` of a model entry), its deny list compiled. */
export interface Guardrails {
  /** Kinds of personal data and secrets replaced in prompts before they leave, and in stored text. */
  redact: PiiKind[];
  /** Regular expressions (case-insensitive) whose match in a prompt refuses the request. */
  deny: RegExp[];
}

/** One place a model is served: a provider account and its model name. */
export interface Deployment {
  /** Its name in events and in circuit-breaker state. */
  name: string;
  provider: string;
  model: string;
  weight: number;
  quality: number;
  /** What it costs, per million tokens; undefined: not priced (calls are recorded at cost 0, unpriced). */
  price: Price | undefined;
  /** Batch-priority calls are billed at the price's batch discount (the route says so). */
  batchDiscount: boolean;
  limits: DeploymentLimits;
  /** The OpenAI encoding that counts its prompts exactly; undefined: they are estimated (see countPromptTokens). */
  tokenizer: TokenizerEncoding | undefined;
}

/** Retries, retry budget and breaker thresholds: routing's, with a route's own `failover` over them. */
export type FailoverPolicy = Static<typeof failoverSchema>;

/** A public model name and how to serve it. */
export interface Route {
  name: string;
  strategy: (typeof routingStrategies)[number];
  deployments: Deployment[];
  /** Routes tried in order once this one's deployments failed. */
  fallbacks: string[];
  firstTokenTimeoutMs?: number;
  attemptTimeoutMs?: number;
  promptCacheAffinity: boolean;
  /** Seconds answers are kept in the exact cache; 0: not cached. */
  cacheTtlSeconds: number;
  semanticCache?: { embeddingModel: string; threshold: number; maxEntries: number; unsafe: boolean };
  /** Redaction and deny list applied to its prompts (and stored text) at the ingress. */
  guardrails?: Guardrails;
  /**
   * Its failover settings, complete. One object per config entry (every name a pattern serves
   * shares it), so a worker can keep one retry budget per entry that sets its own.
   */
  failover: FailoverPolicy;
  /** It sets retryBudget or minRetriesPerSecond itself: its retries spend a budget of its own. */
  ownRetryBudget: boolean;
}

/** What routing conditions (`when`) look at. */
export interface RequestFacts {
  keyName: string | undefined;
  tags: Record<string, string>;
  promptTokens: number;
  tools: boolean;
}

export interface RouteTable {
  /**
   * The route serving a public model name for a request with these facts (without facts: whether
   * the name is served at all), or undefined.
   */
  resolve(name: string, facts?: RequestFacts): Route | undefined;
  /** The model names to list in GET /v1/models (patterns are not names). */
  listed(): string[];
  /** Every entry of the config as a route, in its order (a pattern under its pattern's name). */
  configured(): Route[];
}

type RouteConfig = GatewayConfig["models"][number];

/**
 * The config's `models` as routes: exact names first, then the longest matching prefix pattern;
 * among entries of the same name, the first whose conditions the request meets.
 */
export function createRouteTable(
  models: GatewayConfig["models"],
  priceOf: ListedPrice = () => undefined,
  routing: FailoverPolicy = Value.Create(failoverSchema),
  tokenizerOf: DeploymentTokenizer = () => undefined,
): RouteTable {
  const global = Object.fromEntries(
    Object.keys(failoverSchema.properties).map((field) => [field, routing[field as keyof FailoverPolicy]]),
  ) as FailoverPolicy;
  const policies = new Map(models.map((entry) => [entry, { ...global, ...entry.failover }]));
  const exact = new Map<string, RouteConfig[]>();
  const patterns = new Map<string, RouteConfig[]>();
  for (const entry of models) {
    const table = entry.name.endsWith("*") ? patterns : exact;
    const key = entry.name.endsWith("*") ? entry.name.slice(0, -1) : entry.name;
    table.set(key, [...(table.get(key) ?? []), entry]);
  }
  const prefixes = [...patterns.keys()].sort((a, b) => b.length - a.length);
  // Routes are resolved for every request, at the ingress and again at the worker: each is built
  // once per entry and name (a pattern's names are bounded per entry) and shared, read-only.
  const built = new Map<RouteConfig, Map<string, Route>>();
  const routeOf = (entry: RouteConfig, name: string): Route => {
    let byName = built.get(entry);
    if (!byName) {
      byName = new Map();
      built.set(entry, byName);
    }
    let route = byName.get(name);
    if (!route) {
      if (byName.size >= 1024) byName.clear();
      route = toRoute(entry, name, priceOf, policies.get(entry) ?? global, tokenizerOf);
      byName.set(name, route);
    }
    return route;
  };
  return {
    resolve(name, facts) {
      const entries =
        exact.get(name) ?? patterns.get(prefixes.find((prefix) => name.startsWith(prefix)) ?? "\0");
      const entry = entries?.find((candidate) => !facts || matches(candidate.when, facts));
      return entry ? routeOf(entry, name) : undefined;
    },
    listed: () => [...exact.keys()],
    configured: () => models.map((entry) => routeOf(entry, entry.name)),
  };
}

function matches(when: RouteConfig["when"], facts: RequestFacts): boolean {
  if (!when) return true;
  if (when.keys && !(facts.keyName !== undefined && when.keys.includes(facts.keyName))) return false;
  if (when.tags && !Object.entries(when.tags).every(([tag, value]) => facts.tags[tag] === value))
    return false;
  if (when.minPromptTokens !== undefined && facts.promptTokens < when.minPromptTokens) return false;
  if (when.maxPromptTokens !== undefined && facts.promptTokens > when.maxPromptTokens) return false;
  if (when.tools !== undefined && facts.tools !== when.tools) return false;
  return true;
}

/** A deployment's price from the price table, when its config gives none. */
export type ListedPrice = (provider: string, model: string) => Price | undefined;

/** The encoding that counts a model's prompts at a provider account, by its provider type. */
export type DeploymentTokenizer = (provider: string, model: string) => TokenizerEncoding | undefined;

function toRoute(
  entry: RouteConfig,
  name: string,
  priceOf: ListedPrice,
  failover: FailoverPolicy,
  tokenizerOf: DeploymentTokenizer,
): Route {
  const deployments = entry.deployments ?? [
    {
      provider: entry.provider as string,
      model: entry.model,
      weight: 1,
      quality: 0,
      price: undefined,
      limits: {},
    },
  ];
  return {
    name,
    strategy: entry.strategy,
    deployments: deployments.map((deployment) => {
      const model = deployment.model ?? name;
      return {
        name: deployment.name ?? `${deployment.provider}/${model}`,
        provider: deployment.provider,
        model,
        weight: deployment.weight,
        quality: deployment.quality,
        price: deployment.price ?? priceOf(deployment.provider, model),
        batchDiscount: entry.batchDiscount,
        limits: deployment.limits,
        tokenizer: tokenizerOf(deployment.provider, model),
      };
    }),
    fallbacks: entry.fallbacks,
    promptCacheAffinity: entry.promptCacheAffinity,
    cacheTtlSeconds: entry.cache.ttlSeconds,
    semanticCache: entry.cache.semantic,
    guardrails: entry.guardrails && {
      redact: entry.guardrails.redact,
      deny: entry.guardrails.deny.map((pattern) => new RegExp(pattern, "i")),
    },
    firstTokenTimeoutMs: entry.firstTokenTimeoutMs,
    attemptTimeoutMs: entry.attemptTimeoutMs,
    failover,
    ownRetryBudget:
      entry.failover?.retryBudget !== undefined || entry.failover?.minRetriesPerSecond !== undefined,
  };
}

/**
 * A route table that reads whichever table `current` returns at each call: the one the parts of a
 * process hold, so that a reloaded configuration reaches them. A request keeps the Route it
 * resolved (its deployments, prices and guardrails), so it ends with the table it started with.
 */
export function followRoutes(current: () => RouteTable): RouteTable {
  return {
    resolve: (name, facts) => current().resolve(name, facts),
    listed: () => current().listed(),
    configured: () => current().configured(),
  };
}
