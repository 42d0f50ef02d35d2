import type { DeploymentLimits } from "../../../config/routes.ts";
/**
 * The quotas of provider deployments (requests and tokens per minute, calls at once), counted
 * across every worker process. A call takes a lease before it starts and gives it back when it
 * ends, with the tokens it really used; a lease of a worker that died lapses by itself.
 */
export type QuotaGrant = { granted: true; lease: string } | { granted: false; retryInMs: number };

/** How much of a deployment's quotas is in use now: calls running, and the sliding minute's counts. */
export interface QuotaUsage {
  concurrent: number;
  requestsPerMinute: number;
  tokensPerMinute: number;
}

export interface QuotaStore {
  /** Takes room for one call expected to use `tokens`, or says how long until there may be room. */
  acquire(deployment: string, limits: DeploymentLimits, tokens: number): Promise<QuotaGrant>;
  /** The call ended: its concurrency slot is free, and its token count corrected to what it used. */
  release(deployment: string, lease: string, estimatedTokens: number, usedTokens: number): Promise<void>;
  /** What is in use now, by the rules `acquire` counts with (for the dashboard; it takes nothing). */
  usage(deployment: string): Promise<QuotaUsage>;
}
