import type { Budget, KeyRecord, RateLimits, TeamRecord } from "../schemas/governance-record.ts";

/**
 * What governance keeps and counts, as the ingress, the batch coordinator and the admin API see
 * it. Each has two implementations chosen by governance/connect.ts: shared (Kafka for the key
 * log, Redis for counters: any number of processes) and embedded (local disk and memory).
 */

/**
 * Keys and teams: a durable log with a view in every process's memory, so authenticating a
 * request costs a map lookup. A write resolves once this process's view has it; the other
 * processes see it as soon as they read the log (within a second).
 */
export interface KeyStore {
  /** Reads the whole log into the view; resolves when the view is current. */
  start(): Promise<void>;
  close(): Promise<void>;
  keyByHash(hash: string): KeyRecord | undefined;
  key(id: string): KeyRecord | undefined;
  team(id: string): TeamRecord | undefined;
  keys(): KeyRecord[];
  teams(): TeamRecord[];
  putKey(record: KeyRecord): Promise<void>;
  putTeam(record: TeamRecord): Promise<void>;
  /** Removes a team record for good (the admin API refuses while it has keys). */
  deleteTeam(id: string): Promise<void>;
}

/** Who spends: a key or a team, with its caps. Counters are per scope, id and period. */
export interface Spender {
  scope: "key" | "team";
  id: string;
  budget: Budget;
  /** The team the call is made for: all counters of one call share a Redis Cluster slot by it. */
  slot: string;
}

export type BudgetPeriod = "day" | "month" | "total";

export type Reservation =
  | { granted: true }
  | {
      granted: false;
      /** The cap that refused it. */
      scope: Spender["scope"];
      id: string;
      period: BudgetPeriod;
      limitNanoUsd: number;
      /** Spent plus held by calls in flight, before this request. */
      committedNanoUsd: number;
    };

/** A soft limit crossed by a settle: raised once, by the settle that crossed it. */
export interface BudgetAlert {
  scope: Spender["scope"];
  id: string;
  period: BudgetPeriod;
  percent: number;
  spentNanoUsd: number;
  limitNanoUsd: number;
}

/** Thrown by a ledger that cannot reach its store: budgets fail closed. */
export class LedgerUnavailable extends Error {
  override name = "LedgerUnavailable";
}

/**
 * Spend against budgets. A call reserves the most it may cost before it starts and settles at
 * what it cost when it ends; a reservation not settled (its holder died) lapses after `holdMs`.
 * All checks and holds of one reserve are one atomic step across every process.
 */
export interface BudgetLedger {
  reserve(holdId: string, spenders: Spender[], amountNanoUsd: number, holdMs: number): Promise<Reservation>;
  settle(holdId: string, spenders: Spender[], costNanoUsd: number): Promise<BudgetAlert[]>;
  /** What each period has spent (settled) and holds (in flight), for the admin API. */
  spend(
    scope: Spender["scope"],
    id: string,
    slot: string,
  ): Promise<Record<BudgetPeriod, { spentNanoUsd: number; heldNanoUsd: number }>>;
}

/** Whose rate limits a request counts against. */
export interface RateSubject {
  scope: "key" | "team";
  id: string;
  limits: RateLimits;
  /** As Spender's: the team, so one script's keys share a Redis Cluster slot. */
  slot: string;
}

/** The state of one limit after a decision, for the x-ratelimit-* headers. */
export interface RateWindow {
  limit: number;
  remaining: number;
  /** Until the limit is whole again. */
  resetMs: number;
}

export interface RateDecision {
  allowed: boolean;
  /** When refused: how long until the request would be admitted. */
  retryAfterMs: number;
  /** The tightest of the subjects' limits, per kind (absent: no such limit). */
  requests?: RateWindow;
  tokens?: RateWindow;
  /** When refused: which limit. */
  refusedBy?: { scope: RateSubject["scope"]; id: string; kind: "requests" | "tokens" };
}

/**
 * Requests and tokens per minute across every process. `admit` counts one request and its
 * estimated tokens against every subject, or none of them when any would be over; `charge` adds
 * the tokens learned after the call (never refused). Redis keeps one key per subject and kind,
 * each with a TTL; while Redis is down, each process limits on its own (see governance/README).
 */
export interface RateLimiter {
  admit(subjects: RateSubject[], estimatedTokens: number): Promise<RateDecision>;
  charge(subjects: RateSubject[], tokens: number): Promise<void>;
}

/** Streams open at once per key, across every process; a holder that died lapses after `ttlMs`. */
export interface StreamGate {
  acquire(keyId: string, streamId: string, max: number, ttlMs: number): Promise<boolean>;
  release(keyId: string, streamId: string): Promise<void>;
}
