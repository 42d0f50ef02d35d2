import { createHash } from "node:crypto";
import type { Deployment, RequestFacts, Route, RouteTable } from "../../config/routes.ts";

import { GatewayError } from "../../schemas/errors.ts";
import type { RequestEnvelope } from "../../schemas/request-envelope.ts";
import type { LatencyTracker } from "./latency.ts";

/** One deployment to try, and the route that led to it (the asked one, or a fallback). */
export interface Candidate {
  route: Route;
  deployment: Deployment;
}

export interface PlanInputs {
  /** What routing conditions look at; its promptTokens (estimated) also prices the request. */
  facts: RequestFacts;
  /** Expected output, to price the request. */
  outputTokens: number;
  /** What the caller asked of the deployment: a quality floor, a budget. */
  hints?: RoutingHints | null;
  /**
   * Requests with the same key (a tenant and a long shared prompt prefix) lead with the same
   * deployment of a `weighted` route, so its provider-side prompt cache stays warm.
   */
  affinityKey?: string;
  latency: LatencyTracker;
  random?: () => number;
}

type RoutingHints = NonNullable<RequestEnvelope["routing"]>;

/**
 * The order in which a request tries deployments: its route's, ordered by the route's strategy,
 * then each fallback route's in turn (and theirs), every deployment once. When the caller named a
 * quality floor or a budget, only the deployments that meet them, the cheapest first (with only a
 * budget: the best within it first).
 */
export function planCandidates(route: Route, routes: RouteTable, inputs: PlanInputs): Candidate[] {
  const candidates = plannedInOrder(route, routes, inputs);
  const hints = inputs.hints;
  if (!hints) return candidates;
  const cost = (deployment: Deployment) => estimatedCostUsd(deployment, inputs);
  const meeting = candidates.filter(
    ({ deployment }) =>
      (hints.minQuality === null || deployment.quality >= hints.minQuality) &&
      (hints.maxCostUsd === null || cost(deployment) <= hints.maxCostUsd),
  );
  if (meeting.length === 0)
    throw new GatewayError(
      "invalid_request",
      `no deployment of ${route.name} meets what the request asked: ${describe(hints)}`,
    );
  const rank =
    hints.minQuality === null
      ? (candidate: Candidate) => -candidate.deployment.quality * 1e12 + cost(candidate.deployment)
      : (candidate: Candidate) => cost(candidate.deployment);
  return sortBy(meeting, rank);
}

/** USD for the request at a deployment's prices (per million tokens). */
function estimatedCostUsd(deployment: Deployment, inputs: PlanInputs): number {
  return (
    ((deployment.price?.input ?? 0) * inputs.facts.promptTokens +
      (deployment.price?.output ?? 0) * inputs.outputTokens) /
    1e6
  );
}

function describe(hints: RoutingHints): string {
  return [
    hints.minQuality !== null ? `quality at least ${hints.minQuality} (x-gateway-min-quality)` : "",
    hints.maxCostUsd !== null ? `cost at most ${hints.maxCostUsd} USD (x-gateway-max-cost)` : "",
  ]
    .filter(Boolean)
    .join(", ");
}

function plannedInOrder(route: Route, routes: RouteTable, inputs: PlanInputs): Candidate[] {
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
      const next = routes.resolve(fallback, inputs.facts);
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
    case "weighted": {
      // Weighted sampling without replacement (Efraimidis–Spirakis): each deployment leads with
      // probability weight / total. With an affinity key the draw is a hash of key and deployment
      // (rendezvous hashing): the same key leads with the same deployment, keys still spread by weight.
      const affinity = inputs.affinityKey;
      const draw = affinity
        ? (deployment: Deployment) => hashToUnit(`${affinity}\0${deployment.name}`)
        : random;
      return sortBy(deployments, (deployment) => -(draw(deployment) ** (1 / deployment.weight)));
    }
    case "latency":
      // Unmeasured deployments (0) go first, so that each gets measured; ties in random order.
      return sortBy(shuffle(deployments, random), (deployment) => inputs.latency.estimate(deployment.name));
    case "cost":
      return sortBy(shuffle(deployments, random), (deployment) => estimatedCostUsd(deployment, inputs));
  }
}

function sortBy<T>(items: readonly T[], key: (item: T) => number): T[] {
  return items
    .map((item) => ({ item, key: key(item) }))
    .sort((a, b) => a.key - b.key)
    .map(({ item }) => item);
}

/** A string as a number in (0, 1), uniformly spread. */
function hashToUnit(text: string): number {
  const digest = createHash("sha256").update(text).digest();
  return (digest.readUIntBE(0, 6) + 1) / (2 ** 48 + 2);
}

function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [copy[index], copy[other]] = [copy[other] as T, copy[index] as T];
  }
  return copy;
}
