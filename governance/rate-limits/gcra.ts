import type { RateDecision, RateSubject, RateWindow } from "../contracts.ts";

/** Limits are per minute. */
export const windowMs = 60_000;

/** One limit a request counts against: a subject's requests or tokens per minute, and what it costs. */
export interface Meter {
  subject: RateSubject;
  kind: "requests" | "tokens";
  limit: number;
  cost: number;
  /** Unique per subject and kind: where its state is kept. */
  name: string;
}

/** The meters of a request: one request, and its estimated tokens, for each subject's limits. */
export function metersOf(subjects: RateSubject[], tokens: number): Meter[] {
  return subjects.flatMap((subject) => {
    const meters: Meter[] = [];
    const { requestsPerMinute, tokensPerMinute } = subject.limits;
    const base = `${subject.scope}:${subject.id}`;
    if (requestsPerMinute !== null)
      meters.push({ subject, kind: "requests", limit: requestsPerMinute, cost: 1, name: `${base}:requests` });
    if (tokensPerMinute !== null)
      meters.push({ subject, kind: "tokens", limit: tokensPerMinute, cost: tokens, name: `${base}:tokens` });
    return meters;
  });
}

/** A meter's state after a decision. */
export interface MeterState {
  allowed: boolean;
  /** The theoretical arrival time the meter would have if the request is admitted. */
  nextTat: number;
  remaining: number;
  resetMs: number;
  retryAfterMs: number;
}

/**
 * GCRA (the generic cell rate algorithm): a limit of L per minute is one unit every 60000/L ms,
 * with a burst of the whole minute. `tat` is when the meter would be empty again; a request
 * fits while admitting it leaves that within a minute from now. The Redis script is this, in Lua.
 */
export function decide(tat: number, now: number, cost: number, limit: number): MeterState {
  const interval = windowMs / limit;
  const from = Math.max(tat, now);
  const nextTat = from + cost * interval;
  const allowed = nextTat - now <= windowMs;
  const used = (allowed ? nextTat : from) - now;
  return {
    allowed,
    nextTat,
    remaining: Math.max(0, Math.floor((windowMs - used) / interval)),
    resetMs: used,
    retryAfterMs: allowed ? 0 : nextTat - now - windowMs,
  };
}

/** The decision over all meters: refused if any is, with the tightest window of each kind. */
export function combine(meters: Meter[], states: MeterState[]): RateDecision {
  const refused = states.findIndex((state) => !state.allowed);
  const decision: RateDecision = {
    allowed: refused < 0,
    retryAfterMs: refused < 0 ? 0 : Math.max(...states.filter((s) => !s.allowed).map((s) => s.retryAfterMs)),
  };
  meters.forEach((meter, index) => {
    const state = states[index] as MeterState;
    const window: RateWindow = { limit: meter.limit, remaining: state.remaining, resetMs: state.resetMs };
    const current = decision[meter.kind];
    if (!current || window.remaining < current.remaining) decision[meter.kind] = window;
  });
  if (refused >= 0) {
    const meter = meters[refused] as Meter;
    decision.refusedBy = { scope: meter.subject.scope, id: meter.subject.id, kind: meter.kind };
  }
  return decision;
}
