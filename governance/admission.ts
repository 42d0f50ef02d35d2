import type { Route, RouteTable } from "../config/routes.ts";
import type { PiiKind } from "../config/routes-schema.ts";
import type { GatewayConfig } from "../config/schema.ts";
import { GatewayError } from "../schemas/errors.ts";
import { countPromptTokens } from "../schemas/prompt-tokens.ts";
import type { RequestEventInput } from "../schemas/request-event.ts";
import type { Prompted } from "../schemas/request-size.ts";
import { apiAllowed, modelAllowed } from "./access.ts";
import { maxCallCostNanoUsd } from "./budgets/estimate.ts";
import {
  type BudgetAlert,
  type BudgetLedger,
  type BudgetPeriod,
  LedgerUnavailable,
  type RateLimiter,
  type RateSubject,
  type Spender,
  type StreamGate,
} from "./contracts.ts";
import type { ApiGroup } from "./keys/admin-schema.ts";
import type { Caller } from "./keys/keyring.ts";
import { rateLimitHeaders } from "./rate-limits/headers.ts";

/** What the ingress and the batch coordinator need to govern calls. */
export interface Governance {
  ledger: BudgetLedger;
  limiter: RateLimiter;
  streams: StreamGate;
  routes: RouteTable;
  settings: GatewayConfig["governance"];
  /** How long a budget hold or a stream slot outlives a holder that died. */
  holdMs: number;
  /** A refusal, for the audit log. */
  refused(caller: Caller, requestId: string, action: string, reason: string): void;
  /** What a route's guardrails replaced in a call's prompt, counted by kind. */
  redacted(caller: Caller, requestId: string, counts: Partial<Record<PiiKind, number>>): void;
  /** Soft limits crossed by a call's cost: an event and the webhook. */
  alerted(caller: Caller, alerts: BudgetAlert[]): void;
}

/** The parts of a call its admission looks at. */
export interface CallAdmission {
  requestId: string;
  /** The route group of the API called. */
  group: ApiGroup;
  model: string;
  route: Route;
  stream: boolean;
  maxTokens: number | null;
  n: number;
  /** What the call sends: its prompt's tokens are counted only when counters need them. */
  prompt: Prompted;
  /**
   * A batch line: held against budgets until `holdMs` (its batch's deadline), not counted
   * against per-minute rate limits — batch work is paced by the batch machinery instead.
   */
  batch?: { holdMs: number };
}

/** An admitted call: what to tell the caller, and what to do when it ends. */
export interface Admission {
  /** x-ratelimit-* headers of the caller's limits. */
  headers: Record<string, string>;
  /** max_tokens the call must carry: the caller's limit when the request named none (else its own). */
  maxTokens: number | null;
  /** Settles the call's budget hold at what it cost, returns its tokens and stream slot. Called once. */
  end(event: SettledEvent): void;
}

/**
 * Checks a call against its key's and team's policy: model and API access and consumption limits
 * first, then rate limits, the stream slot and the budget hold, asked at once. Each refusal is a
 * typed error in the caller's API shape and an audit record; what one counter took is given back
 * when another refuses.
 */
export async function admitCall(
  governance: Governance,
  caller: Caller,
  call: CallAdmission,
): Promise<Admission> {
  const refuse = (action: string, error: GatewayError): never => {
    governance.refused(caller, call.requestId, action, error.message);
    throw error;
  };
  const maxTokensLimit = checkAccessAndLimits(governance, caller, call, refuse);
  const maxTokens = call.maxTokens ?? maxTokensLimit;
  const { subjects, spenders } = policyOf(caller, call);
  // Counting reads the whole prompt: done only for a call whose key or team counts tokens or spend,
  // with the counter of the deployment the route tries first (count_tokens answers with the same).
  const metered: CallAdmission & Metered = {
    ...call,
    promptTokens:
      subjects.length + spenders.length > 0
        ? (await countPromptTokens(call.prompt, call.route.deployments[0]?.tokenizer)).tokens
        : 0,
  };
  const { headers, held, releaseStream } = await takeCounters(governance, caller, metered, maxTokens, refuse);
  let ended = false;
  return {
    headers,
    maxTokens,
    end(event) {
      if (ended) return;
      ended = true;
      releaseStream();
      settleCall(governance, caller, metered, held, event);
    },
  };
}

type Refuse = (action: string, error: GatewayError) => never;

/**
 * A count of a call's input tokens (count_tokens): allowed to a key that may make the call. It
 * takes nothing from rate limits or budgets — no provider bills a count — so it holds nothing.
 */
export function admitCount(
  governance: Governance,
  caller: Caller,
  call: Pick<CallAdmission, "requestId" | "group" | "model">,
): void {
  checkAccess(caller, call, (action, error) => {
    governance.refused(caller, call.requestId, action, error.message);
    throw error;
  });
}

function checkAccess(caller: Caller, call: Pick<CallAdmission, "group" | "model">, refuse: Refuse): void {
  if (!apiAllowed(caller, call.group))
    refuse("request.api", new GatewayError("permission", `this key may not use the ${call.group} API`));
  if (!modelAllowed(caller, call.model))
    refuse(
      "request.model",
      new GatewayError("permission", `this key may not use the model ${call.model}`, { param: "model" }),
    );
}

/** API and model access, then the key's bounds on max_tokens and n; returns the max_tokens bound, if any. */
function checkAccessAndLimits(
  governance: Governance,
  caller: Caller,
  call: CallAdmission,
  refuse: Refuse,
): number | null {
  const limits = caller.grant?.key.limits;
  checkAccess(caller, call, refuse);
  const maxTokensLimit = limits?.maxTokens ?? (governance.settings.maxTokens || null);
  if (maxTokensLimit !== null && call.maxTokens !== null && call.maxTokens > maxTokensLimit)
    refuse(
      "request.max_tokens",
      new GatewayError("invalid_request", `max_tokens may be at most ${maxTokensLimit} for this key`, {
        param: "max_tokens",
      }),
    );
  const maxN = limits?.maxN ?? governance.settings.maxN;
  if (call.n > maxN)
    refuse(
      "request.n",
      new GatewayError("invalid_request", `n may be at most ${maxN} for this key`, { param: "n" }),
    );
  return maxTokensLimit;
}

/**
 * Rate limits, the stream slot and the budget hold, asked at once (one Redis round trip of
 * latency, not three); what one of them took is given back when another refuses.
 */
async function takeCounters(
  governance: Governance,
  caller: Caller,
  call: CallAdmission & Metered,
  maxTokens: number | null,
  refuse: Refuse,
) {
  const { subjects, spenders } = policyOf(caller, call);
  const maxStreams =
    caller.grant?.key.limits?.maxConcurrentStreams ?? governance.settings.maxConcurrentStreams;
  const holdsStream = call.stream && maxStreams > 0;
  const [rate, stream, budget] = await Promise.allSettled([
    subjects.length > 0 ? governance.limiter.admit(subjects, call.promptTokens) : undefined,
    holdsStream
      ? governance.streams.acquire(caller.keyId, call.requestId, maxStreams, governance.holdMs)
      : true,
    spenders.length > 0 ? holdBudget(governance, spenders, call, maxTokens) : 0,
  ]);
  const streamTaken = holdsStream && stream.status === "fulfilled" && stream.value;
  const releaseStream = () => {
    if (streamTaken) void governance.streams.release(caller.keyId, call.requestId).catch(() => {});
  };
  const refuseReleasing = (action: string, error: unknown): never => {
    releaseStream();
    if (budget.status === "fulfilled" && spenders.length > 0)
      void governance.ledger.settle(call.requestId, spenders, 0).catch(() => {});
    if (error instanceof LedgerUnavailable)
      return refuse(
        action,
        new GatewayError("overloaded", "budgets cannot be checked now, so no call is made; retry shortly", {
          retryAfterMs: 1000,
        }),
      );
    if (error instanceof GatewayError) return refuse(action, error);
    throw error;
  };
  if (rate.status === "rejected") return refuseReleasing("request.rate_limit", rate.reason);
  const headers = rate.value ? rateLimitHeaders(rate.value) : {};
  if (rate.value && !rate.value.allowed) {
    const by = rate.value.refusedBy;
    refuseReleasing(
      "request.rate_limit",
      new GatewayError(
        "rate_limited",
        `rate limit reached: ${by ? `${by.kind} per minute of ${by.scope} ${by.id}` : "per minute"}; retry later`,
        { retryAfterMs: rate.value.retryAfterMs, headers },
      ),
    );
  }
  if (stream.status === "rejected") return refuseReleasing("request.streams", stream.reason);
  if (!stream.value)
    refuseReleasing(
      "request.streams",
      new GatewayError("rate_limited", `this key may hold at most ${maxStreams} streams open at once`, {
        retryAfterMs: 1000,
        headers,
      }),
    );
  if (budget.status === "rejected") return refuseReleasing("request.budget", budget.reason);
  return { headers, held: budget.value, releaseStream };
}

/** A call as its counters know it: by its id, with its counted prompt. */
export interface Metered extends Pick<CallAdmission, "requestId" | "batch"> {
  promptTokens: number;
}

/** Whose rate limits a call counts against and whose budgets pay for it. */
function policyOf(caller: Caller, call: Pick<CallAdmission, "batch">) {
  const subjects: RateSubject[] = [];
  const spenders: Spender[] = [];
  const grant = caller.grant;
  if (grant) {
    const slot = grant.team.id;
    if (grant.key.rateLimits && !call.batch)
      subjects.push({ scope: "key", id: grant.key.id, limits: grant.key.rateLimits, slot });
    if (grant.team.rateLimits && !call.batch)
      subjects.push({ scope: "team", id: grant.team.id, limits: grant.team.rateLimits, slot });
    if (grant.key.budget) spenders.push({ scope: "key", id: grant.key.id, budget: grant.key.budget, slot });
    if (grant.team.budget)
      spenders.push({ scope: "team", id: grant.team.id, budget: grant.team.budget, slot });
  }
  return { subjects, spenders };
}

/**
 * The end of an admitted call: its tokens counted, its budget hold settled at its cost. `held` is
 * what was held: a call that reached a provider but whose cost is unknown is charged all of it,
 * so a budget errs on the safe side. A batch line may be settled by another coordinator than the
 * one that held it: the hold is found by the line's request id.
 */
export function settleCall(
  governance: Governance,
  caller: Caller,
  call: Metered,
  held: number,
  event: SettledEvent,
): void {
  const { subjects, spenders } = policyOf(caller, call);
  const tokens = (event.usage?.inputTokens ?? 0) + (event.usage?.outputTokens ?? 0);
  if (subjects.length > 0 && tokens > call.promptTokens)
    void governance.limiter.charge(subjects, tokens - call.promptTokens).catch(() => {});
  if (spenders.length === 0) return;
  const cost = event.priced ? (event.costNanoUsd ?? 0) : event.provider ? held : 0;
  governance.ledger.settle(call.requestId, spenders, cost).then(
    (alerts) => alerts.length > 0 && governance.alerted(caller, alerts),
    () => {}, // a hold not settled lapses by itself; the cost is still in ClickHouse
  );
}

type SettledEvent = Pick<RequestEventInput, "costNanoUsd" | "priced" | "usage" | "provider">;

/** The most a call may cost: what its budgets hold for it (undefined: a model without a price). */
export function callHoldNanoUsd(
  governance: Governance,
  call: Pick<CallAdmission, "route" | "group" | "n"> & Pick<Metered, "promptTokens">,
  maxTokens: number | null,
): number | undefined {
  const outputTokens =
    call.group === "embeddings" ? 0 : (maxTokens ?? governance.settings.defaultMaxOutputTokens) * call.n;
  return maxCallCostNanoUsd(call.route, governance.routes, call.promptTokens, outputTokens);
}

/** Holds the most the call may cost against every budget, or refuses with the budget that is spent. */
async function holdBudget(
  governance: Governance,
  spenders: Spender[],
  call: CallAdmission & Metered,
  maxTokens: number | null,
): Promise<number> {
  const amount = callHoldNanoUsd(governance, call, maxTokens);
  if (amount === undefined)
    throw new GatewayError(
      "permission",
      `the model ${call.model} has no price, so a key or team with a budget may not call it`,
      { param: "model" },
    );
  const holdMs = call.batch?.holdMs ?? governance.holdMs;
  const reservation = await governance.ledger.reserve(call.requestId, spenders, amount, holdMs);
  if (reservation.granted) return amount;
  const { scope, id, period, limitNanoUsd } = reservation;
  const resetMs = periodResetMs(period, Date.now());
  throw new GatewayError(
    "budget_exceeded",
    `the ${periodName[period]} budget of ${scope} ${id} ($${(limitNanoUsd / 1e9).toFixed(2)}) does not cover this call`,
    resetMs === undefined ? {} : { retryAfterMs: resetMs },
  );
}

const periodName: Record<BudgetPeriod, string> = { day: "daily", month: "monthly", total: "total" };

/** Until a period's budget is whole again (UTC); a total budget never is. */
function periodResetMs(period: BudgetPeriod, nowMs: number): number | undefined {
  const now = new Date(nowMs);
  if (period === "day")
    return Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1) - nowMs;
  if (period === "month") return Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1) - nowMs;
  return undefined;
}
