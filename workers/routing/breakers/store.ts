import type { FailoverPolicy } from "../../../config/routes.ts";

/**
 * Circuit breakers of provider deployments, shared by every worker process. A deployment that
 * failed `breakerFailures` times within a window, or that asked not to be called for a while (429
 * with retry-after), is open: routing skips it. Once its cooldown is over it is half-open: one
 * request at a time may probe it; the probe's success closes it, its failure opens it again.
 *
 * A deployment has one breaker, whichever routes list it: its failures are counted together, and
 * each one is judged with the thresholds of the route whose request failed (how many failures
 * within which window open it, and for how long). So a route that tolerates less opens a shared
 * deployment sooner, for every route; a deployment `name` of its own keeps a route's health apart.
 */
export type BreakerState =
  | { state: "closed" | "half_open" }
  /** `reopensInMs`: how long until it half-opens. */
  | { state: "open"; reopensInMs: number };

/** A route's thresholds, from its failover settings. */
export type BreakerSettings = Pick<
  FailoverPolicy,
  "breakerFailures" | "breakerWindowMs" | "breakerCooldownMs"
>;

export interface BreakerStore {
  states(deployments: string[]): Promise<BreakerState[]>;
  /** True if this caller may probe a half-open deployment now (one probe at a time, for its route's cooldown). */
  tryProbe(deployment: string, settings: BreakerSettings): Promise<boolean>;
  /**
   * A failure that says something about the deployment, judged with the failing route's settings;
   * `openForMs` opens it at once (retry-after).
   */
  failure(deployment: string, settings: BreakerSettings, openForMs?: number): Promise<void>;
  /** A probe succeeded: the deployment is closed again. */
  probeSucceeded(deployment: string): Promise<void>;
}
