import { costNanoUsd } from "../../config/pricing/cost.ts";
import type { Route, RouteTable } from "../../config/routes.ts";

/**
 * The most a call may cost: its prompt and its whole output allowance at the dearest deployment
 * it could reach (its route's and, through failover, its fallbacks'). What is held against a
 * budget before the call; undefined when one of them has no price, so no bound is known.
 */
export function maxCallCostNanoUsd(
  route: Route,
  routes: RouteTable,
  promptTokens: number,
  outputTokens: number,
): number | undefined {
  const usage = {
    inputTokens: promptTokens,
    outputTokens,
    cachedInputTokens: 0,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
  };
  let most = 0;
  const seen = new Set<string>();
  const visit = (current: Route | undefined): boolean => {
    if (!current || seen.has(current.name)) return true;
    seen.add(current.name);
    for (const deployment of current.deployments) {
      if (!deployment.price) return false;
      most = Math.max(most, costNanoUsd(usage, deployment.price));
    }
    return current.fallbacks.every((name) => visit(routes.resolve(name)));
  };
  return visit(route) ? most : undefined;
}
