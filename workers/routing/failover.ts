import { setTimeout as sleep } from "node:timers/promises";
import type { DeploymentLimits, FailoverPolicy, Route } from "../../config/routes.ts";
import { type ErrorCode, GatewayError } from "../../schemas/errors.ts";
import type { BreakerState, BreakerStore } from "./breakers/store.ts";
import type { LatencyTracker } from "./latency.ts";
import type { Candidate } from "./plan.ts";
import type { QuotaStore } from "./quotas/store.ts";
import type { RetryBudgets } from "./retry-budget.ts";

export interface FailoverServices {
  breakers: BreakerStore;
  quotas: QuotaStore;
  latency: LatencyTracker;
  budgets: RetryBudgets;
  /** Most of a deployment's quotas batch-priority calls may take (routing.batchQuotaShare). */
  batchQuotaShare: number;
  /** Prompt length (estimated tokens) from which requests get prompt-cache affinity; 0: never. */
  affinityMinTokens: number;
  random?: () => number;
}

/** Breakers that never open, when the operator turned them off. */
export const noBreakers: BreakerStore = {
  states: async (deployments) => deployments.map(() => ({ state: "closed" })),
  tryProbe: async () => false,
  failure: async () => {},
  probeSucceeded: async () => {},
};

/** What a call tells the failover loop as it goes. */
export interface CallProgress {
  /** The first piece of the answer went to the client: from here on a failure cannot be hidden. */
  contentSent(): void;
  /** The tokens the provider says the call used, for the deployment's token quota. */
  used(tokens: number): void;
}

/** The request as the loop sees it. */
export interface FailoverRequest {
  /**
   * The route it asked for: its failover settings (attempts, backoff, retry budget, breaker
   * thresholds) govern the whole request, its fallback routes' deployments included.
   */
  route: Pick<Route, "failover" | "ownRetryBudget">;
  deadlineMs: number;
  /** Prompt and expected output, for token quotas until the provider says. */
  estimatedTokens: number;
  /**
   * A batch line: it takes at most `batchQuotaShare` of a deployment's quotas, leaving the rest
   * to interactive calls, and when every deployment is at its quota or cooling down it waits for
   * room as long as its deadline allows, instead of failing with a 429 nobody would retry.
   */
  batch: boolean;
}

/** A call to one deployment; throws a GatewayError when it fails. */
export type DeploymentCall = (
  candidate: Candidate,
  signal: AbortSignal,
  progress: CallProgress,
) => Promise<void>;

/** Failures that say the deployment is unwell (or busy), worth trying elsewhere or later. */
const retryable = new Set<ErrorCode>(["rate_limited", "overloaded", "provider_error", "timeout"]);

/**
 * Serves a request from the first deployment that answers: candidates in plan order, skipping
 * those whose circuit breaker is open; on a retryable failure before any content reached the
 * client, the next candidate, then the plan again after a jittered exponential pause. Bounded by
 * `maxAttempts` calls, the retry budget and the request's deadline (its signal), all of them the
 * asked route's settings, as are the thresholds its failures are judged by. A failure after
 * content was sent, or one that is the caller's fault, ends the request.
 */
export async function serveWithFailover(
  candidates: Candidate[],
  services: FailoverServices,
  request: FailoverRequest,
  signal: AbortSignal,
  call: DeploymentCall,
): Promise<void> {
  const { breakers } = services;
  const { deadlineMs } = request;
  const settings = request.route.failover;
  const budget = services.budgets.of(request.route);
  const random = services.random ?? Math.random;
  const names = candidates.map((candidate) => candidate.deployment.name);
  const tries = new Map<string, number>();
  let calls = 0;
  let lastError: GatewayError | undefined;
  budget.earn();
  while (calls < settings.maxAttempts) {
    const states = await breakers
      .states(names)
      .catch((): BreakerState[] => names.map(() => ({ state: "closed" })));
    let calledThisRound = false;
    let quotaWaitMs = Number.POSITIVE_INFINITY;
    for (const [index, candidate] of candidates.entries()) {
      if (calls >= settings.maxAttempts) break;
      const state = states[index] ?? { state: "closed" };
      const name = candidate.deployment.name;
      if (state.state === "open") continue;
      const previousTries = tries.get(name) ?? 0;
      const pause = previousTries === 0 ? 0 : backoff(previousTries, settings, random);
      if (Date.now() + pause >= deadlineMs) continue;
      if (state.state === "half_open" && !(await breakers.tryProbe(name, settings).catch(() => false)))
        continue;
      if (calls > 0 && !budget.trySpend()) throw lastError;
      if (pause > 0) await sleep(pause, undefined, { signal });
      const share = request.batch ? services.batchQuotaShare : 1;
      const lease = await takeQuota(candidate, services.quotas, request.estimatedTokens, share);
      if (!lease.granted) {
        quotaWaitMs = Math.min(quotaWaitMs, lease.retryInMs);
        continue;
      }
      calls++;
      calledThisRound = true;
      tries.set(name, previousTries + 1);
      const outcome = await callOnce(candidate, services, signal, call, lease.used).finally(() =>
        lease.release(),
      );
      if (outcome.ok) {
        if (state.state === "half_open") await breakers.probeSucceeded(name).catch(() => {});
        return;
      }
      const error = outcome.error;
      if (retryable.has(error.code)) {
        const openFor = error.code === "rate_limited" ? error.details.retryAfterMs : undefined;
        await breakers.failure(name, settings, openFor).catch(() => {});
      }
      if (outcome.contentSent || !retryable.has(error.code)) throw error;
      lastError = error;
    }
    if (!calledThisRound) {
      // Every deployment is open or at its quota: wait for the first to have room if the
      // deadline allows, else give up.
      const soonest = Math.min(
        quotaWaitMs,
        ...states.map((state) => (state.state === "open" ? state.reopensInMs : Number.POSITIVE_INFINITY)),
      );
      const tooLong = !request.batch && soonest > settings.maxBackoffMs;
      if (!Number.isFinite(soonest) || Date.now() + soonest >= deadlineMs || tooLong)
        throw lastError ?? unavailable(candidates, soonest, Number.isFinite(quotaWaitMs));
      await sleep(soonest, undefined, { signal });
    }
  }
  throw lastError;
}

type CallOutcome = { ok: true } | { ok: false; error: GatewayError; contentSent: boolean };

/**
 * One call with its route's timeouts: no first content within `firstTokenTimeoutMs`, or no end
 * within `attemptTimeoutMs`, abandons the deployment with a timeout (and lets the next one try).
 */
async function callOnce(
  candidate: Candidate,
  services: FailoverServices,
  signal: AbortSignal,
  call: DeploymentCall,
  used: { tokens: number },
): Promise<CallOutcome> {
  const { route, deployment } = candidate;
  const startedAt = Date.now();
  const abandon = new AbortController();
  const timer = (ms: number | undefined, what: string) =>
    ms === undefined
      ? undefined
      : setTimeout(
          () => abandon.abort(new GatewayError("timeout", `${deployment.name} ${what} within ${ms} ms`)),
          ms,
        );
  const firstToken = timer(route.firstTokenTimeoutMs, "sent no first token");
  const whole = timer(route.attemptTimeoutMs, "did not finish its answer");
  let contentSent = false;
  const progress: CallProgress = {
    contentSent() {
      if (contentSent) return;
      contentSent = true;
      clearTimeout(firstToken);
      services.latency.observe(deployment.name, Date.now() - startedAt);
    },
    used(tokens) {
      used.tokens = tokens;
    },
  };
  // The request's own end abandons the call too. Linked by hand rather than by AbortSignal.any,
  // whose WeakRefs young-generation collections treat as strong: every call's signal, and all
  // its listeners reach, would outlive them and be promoted (BENCHMARKS.md: what outlives the young generation).
  const forward = () => abandon.abort(signal.reason);
  if (signal.aborted) forward();
  else signal.addEventListener("abort", forward, { once: true });
  try {
    await call(candidate, abandon.signal, progress);
    return { ok: true };
  } catch (error) {
    // The client went away or the request's deadline passed: nothing to fail over to.
    if (signal.aborted) throw signal.reason ?? error;
    if (!(error instanceof GatewayError)) throw error;
    if (error.code === "timeout" && !contentSent)
      services.latency.observe(deployment.name, Date.now() - startedAt);
    return { ok: false, error, contentSent };
  } finally {
    signal.removeEventListener("abort", forward);
    clearTimeout(firstToken);
    clearTimeout(whole);
  }
}

/**
 * A deployment's limits as a share of them: the counts are the same for every call, so a call
 * checked against 80 % of the limit cannot push them past 80 %, while a call checked against the
 * whole limit may use the rest.
 */
function sharedLimits(limits: DeploymentLimits, share: number): DeploymentLimits {
  if (share >= 1) return limits;
  const part = (limit: number | undefined) =>
    limit === undefined ? undefined : Math.max(1, Math.floor(limit * share));
  return {
    requestsPerMinute: part(limits.requestsPerMinute),
    tokensPerMinute: part(limits.tokensPerMinute),
    concurrency: part(limits.concurrency),
  };
}

/** Full jitter: a random pause up to base × 2^(tries − 1), capped. */
function backoff(tries: number, settings: FailoverPolicy, random: () => number): number {
  return random() * Math.min(settings.maxBackoffMs, settings.backoffMs * 2 ** (tries - 1));
}

function unavailable(candidates: Candidate[], retryInMs: number, quotas: boolean): GatewayError {
  const route = candidates[0]?.route.name ?? "the model";
  const retry = Number.isFinite(retryInMs) ? { retryAfterMs: retryInMs } : {};
  return quotas
    ? new GatewayError(
        "rate_limited",
        `every deployment of ${route} is at its rate or concurrency limit`,
        retry,
      )
    : new GatewayError(
        "overloaded",
        `every deployment of ${route} is failing; their circuit breakers are open`,
        retry,
      );
}

type Lease =
  | { granted: true; release(): Promise<void>; used: { tokens: number } }
  | { granted: false; retryInMs: number };

/**
 * Room for one call within the deployment's quotas, if it has any (no round trip otherwise).
 * If the quota store cannot be reached, the call goes ahead: quotas protect provider accounts,
 * and the provider still enforces its own.
 */
async function takeQuota(
  candidate: Candidate,
  quotas: QuotaStore,
  estimatedTokens: number,
  share: number,
): Promise<Lease> {
  const { name } = candidate.deployment;
  const used = { tokens: 0 };
  const free = { granted: true as const, used, release: async () => {} };
  const limits = sharedLimits(candidate.deployment.limits, share);
  if (!limits.concurrency && !limits.requestsPerMinute && !limits.tokensPerMinute) return free;
  const grant = await quotas.acquire(name, limits, estimatedTokens).catch(() => undefined);
  if (!grant) return free;
  if (!grant.granted) return grant;
  return {
    granted: true,
    used,
    release: () => quotas.release(name, grant.lease, estimatedTokens, used.tokens).catch(() => {}),
  };
}
