import type { DeploymentLimits } from "../bus/contracts.ts";
import type { routingStrategies } from "./routes-schema.ts";
import type { GatewayConfig } from "./schema.ts";

/** One place a model is served: a provider account and its model name. */
export interface Deployment {
  /** Its name in events and in circuit-breaker state. */
  name: string;
  provider: string;
  model: string;
  weight: number;
  /** USD per million tokens. */
  price: { input: number; output: number };
  limits: DeploymentLimits;
}

/** A public model name and how to serve it. */
export interface Route {
  name: string;
  strategy: (typeof routingStrategies)[number];
  deployments: Deployment[];
  /** Routes tried in order once this one's deployments failed. */
  fallbacks: string[];
  firstTokenTimeoutMs?: number;
  attemptTimeoutMs?: number;
}

export interface RouteTable {
  /** The route serving a public model name, or undefined if this gateway does not serve it. */
  resolve(name: string): Route | undefined;
  /** The model names to list in GET /v1/models (patterns are not names). */
  listed(): string[];
}

type RouteConfig = GatewayConfig["models"][number];

/** The config's `models` as routes: exact names first, then the longest matching prefix pattern. */
export function createRouteTable(models: GatewayConfig["models"]): RouteTable {
  const exact = new Map(
    models.filter((entry) => !entry.name.endsWith("*")).map((entry) => [entry.name, entry]),
  );
  const patterns = models
    .filter((entry) => entry.name.endsWith("*"))
    .map((entry) => ({ prefix: entry.name.slice(0, -1), entry }))
    .sort((a, b) => b.prefix.length - a.prefix.length);
  return {
    resolve(name) {
      const entry = exact.get(name) ?? patterns.find(({ prefix }) => name.startsWith(prefix))?.entry;
      return entry ? toRoute(entry, name) : undefined;
    },
    listed: () => [...exact.keys()],
  };
}

function toRoute(entry: RouteConfig, name: string): Route {
  const deployments = entry.deployments ?? [
    {
      provider: entry.provider as string,
      model: entry.model,
      weight: 1,
      price: { input: 0, output: 0 },
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
        price: deployment.price,
        limits: deployment.limits,
      };
    }),
    fallbacks: entry.fallbacks,
    firstTokenTimeoutMs: entry.firstTokenTimeoutMs,
    attemptTimeoutMs: entry.attemptTimeoutMs,
  };
}
