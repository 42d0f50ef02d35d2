import type { Deployment, Route, RouteTable } from "../../config/routes.ts";
import type { LatencyTracker } from "./latency.ts";

/** One deployment to try, and the route that led to it (the asked one, or a fallback). */
export interface Candidate {
  route: Route;
  deployment: Deployment;
}

export interface PlanInputs {
  /** Rough size of the request, for the `cost` strategy. */
  promptTokens: number;
  outputTokens: number;
  latency: LatencyTracker;
  random?: () => number;
}

/**
 * The order in which a request tries deployments: its route's, ordered by the route's strategy,
 * then each fallback route's in turn (and theirs), every deployment once.
 */
export function planCandidates(route: Route, routes: RouteTable, inputs: PlanInputs): Candidate[] {
  const candidates: Candidate[] = [];
  const seenRoutes = new Set<string>();
  const seenDeployments = new Set<string>();
  const visit = (current: Route) => {
    if (seenRoutes.has(current.name)) return;
    seenRoutes.add(current.name);
    for (const deployment of ordered(current, inputs)) {
      if (seenDeployments.has(deployment.name)) continue;
      seenDeployments.add(deployment.name);
      candidates.push({ route: current, deployment });
    }
    for (const fallback of current.fallbacks) {
      const next = routes.resolve(fallback);
      if (next) visit(next);
    }
  };
  visit(route);
  return candidates;
}

function ordered(route: Route, inputs: PlanInputs): Deployment[] {
  const random = inputs.random ?? Math.random;
  const deployments = route.deployments;
  switch (route.strategy) {
    case "priority":
      return deployments;
    case "weighted":
      // Weighted sampling without replacement (Efraimidis–Spirakis): each deployment leads with probability weight / total.
      return sortBy(deployments, (deployment) => -(random() ** (1 / deployment.weight)));
    case "latency":
      // Unmeasured deployments (0) go first, so that each gets measured; ties in random order.
      return sortBy(shuffle(deployments, random), (deployment) => inputs.latency.estimate(deployment.name));
    case "cost":
      return sortBy(
        shuffle(deployments, random),
        (deployment) =>
          deployment.price.input * inputs.promptTokens + deployment.price.output * inputs.outputTokens,
      );
  }
}

function sortBy<T>(items: readonly T[], key: (item: T) => number): T[] {
  return items
    .map((item) => ({ item, key: key(item) }))
    .sort((a, b) => a.key - b.key)
    .map(({ item }) => item);
}

function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [copy[index], copy[other]] = [copy[other] as T, copy[index] as T];
  }
  return copy;
}
