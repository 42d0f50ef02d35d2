/**
 * Circuit breakers of provider deployments, shared by every worker process. A deployment that
 * failed `failures` times within a window, or that asked not to be called for a while (429 with
 * retry-after), is open: routing skips it. Once its cooldown is over it is half-open: one request
 * at a time may probe it; the probe's success closes it, its failure opens it again.
 */
export type BreakerState =
  | { state: "closed" | "half_open" }
  /** `reopensInMs`: how long until it half-opens. */
  | { state: "open"; reopensInMs: number };

export interface BreakerSettings {
  failures: number;
  windowMs: number;
  cooldownMs: number;
}

export interface BreakerStore {
  states(deployments: string[]): Promise<BreakerState[]>;
  /** True if this caller may probe a half-open deployment now (one probe at a time). */
  tryProbe(deployment: string): Promise<boolean>;
  /** A failure that says something about the deployment; `openForMs` opens it at once (retry-after). */
  failure(deployment: string, openForMs?: number): Promise<void>;
  /** A probe succeeded: the deployment is closed again. */
  probeSucceeded(deployment: string): Promise<void>;
}
