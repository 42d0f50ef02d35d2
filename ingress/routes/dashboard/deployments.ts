import type { FastifyPluginAsync } from "fastify";
import type { RouteTable } from "../../../config/routes.ts";
import type { BreakerState } from "../../../workers/routing/breakers/store.ts";
import type { QuotaUsage } from "../../../workers/routing/quotas/store.ts";
import type { RoutingState } from "../../../workers/routing/state.ts";
import { authenticateDashboard } from "./session.ts";

export interface DeploymentsOptions {
  routes: RouteTable;
  /** The breakers and quotas the workers share: this process's, or Redis's on the Kafka bus. */
  routingState: Pick<RoutingState, "breakers" | "quotas">;
}

/**
 * GET /ui/api/deployments: the routes of the configuration with their fallbacks, and each
 * deployment's live state as the workers see it now — its circuit breaker and how much of its
 * quotas is in use. (Latency, errors and 429s come from ClickHouse: the `deployment-health` query.)
 * Names only: no provider URL or credential is ever part of it.
 */
export const deploymentRoutes: FastifyPluginAsync<DeploymentsOptions> = async (app, options) => {
  app.get("/ui/api/deployments", async (request) => {
    authenticateDashboard(app, request);
    const routes = options.routes.configured();
    const deployments = [
      ...new Map(
        routes.flatMap((route) => route.deployments).map((deployment) => [deployment.name, deployment]),
      ).values(),
    ];
    const names = deployments.map((deployment) => deployment.name);
    const [breakers, quotas] = await Promise.all([
      options.routingState.breakers.states(names).catch(() => undefined),
      Promise.all(names.map((name) => options.routingState.quotas.usage(name))).catch(() => undefined),
    ]);
    return {
      routes: routes.map((route) => ({
        name: route.name,
        strategy: route.strategy,
        deployments: route.deployments.map((deployment) => deployment.name),
        fallbacks: route.fallbacks,
        cacheTtlSeconds: route.cacheTtlSeconds,
      })),
      deployments: deployments.map((deployment, index) => ({
        name: deployment.name,
        provider: deployment.provider,
        model: deployment.model,
        weight: deployment.weight,
        limits: deployment.limits,
        breaker: (breakers?.[index] ?? null) as BreakerState | null,
        quota: (quotas?.[index] ?? null) as QuotaUsage | null,
      })),
      // Where the shared state could not be read (Redis down), the page says so instead of "closed".
      stateUnavailable: breakers === undefined || quotas === undefined,
    };
  });
};
