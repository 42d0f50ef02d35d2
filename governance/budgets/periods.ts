import type { Budget } from "../../schemas/governance-record.ts";
import type { BudgetAlert, BudgetPeriod, Reservation, Spender } from "../contracts.ts";

/** The budget periods, each counted in its own bucket: the UTC day, the UTC month, all time. */
export const budgetPeriods: readonly BudgetPeriod[] = ["day", "month", "total"];

/** How long a period's counter is kept after its last write: past its period, for the admin API to show. */
export const periodTtlMs: Record<BudgetPeriod, number> = {
  day: 2 * 86_400_000,
  month: 62 * 86_400_000,
  total: 400 * 86_400_000,
};

/** The bucket of each period at `nowMs`: 2026-11-28, 2026-11, all. */
export function bucketOf(period: BudgetPeriod, nowMs: number): string {
  const iso = new Date(nowMs).toISOString();
  return period === "day" ? iso.slice(0, 10) : period === "month" ? iso.slice(0, 7) : "all";
}

/** When the current bucket of a period began and when it ends (UTC); all time has no end. */
export function periodBounds(
  period: BudgetPeriod,
  nowMs: number,
): { startMs: number; endMs: number } | undefined {
  const now = new Date(nowMs);
  const [year, month, day] = [now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()];
  if (period === "day") return { startMs: Date.UTC(year, month, day), endMs: Date.UTC(year, month, day + 1) };
  if (period === "month") return { startMs: Date.UTC(year, month, 1), endMs: Date.UTC(year, month + 1, 1) };
  return undefined;
}

/** A budget's cap for a period in nano-USD; undefined: that period is not capped. */
export function capNanoUsd(budget: Budget, period: BudgetPeriod): number | undefined {
  const usd = period === "day" ? budget.dailyUsd : period === "month" ? budget.monthlyUsd : budget.totalUsd;
  return usd === null ? undefined : Math.round(usd * 1e9);
}

/** One counter of a spender: where it is kept, and its cap. */
export interface Counter {
  spender: Spender;
  period: BudgetPeriod;
  /** A name unique to the spender, period and bucket. */
  name: string;
  cap: number | undefined;
}

/** Every counter of the spenders at `nowMs`, capped or not (a settle counts spend in all). */
export function countersOf(spenders: Spender[], nowMs: number): Counter[] {
  return spenders.flatMap((spender) =>
    budgetPeriods.map((period) => ({
      spender,
      period,
      name: `${spender.scope}:${spender.id}:${period}:${bucketOf(period, nowMs)}`,
      cap: capNanoUsd(spender.budget, period),
    })),
  );
}

/** The alert a settle raises when it takes a capped counter from below its soft limit to at or above it. */
export function crossing(
  counter: Counter,
  before: number,
  after: number,
  defaultPercent: number,
): BudgetAlert | undefined {
  if (counter.cap === undefined) return undefined;
  const percent = counter.spender.budget.softLimitPercent ?? defaultPercent;
  const threshold = (counter.cap * percent) / 100;
  if (!(before < threshold && after >= threshold)) return undefined;
  return {
    scope: counter.spender.scope,
    id: counter.spender.id,
    period: counter.period,
    percent,
    spentNanoUsd: after,
    limitNanoUsd: counter.cap,
  };
}

/** A reserve refused by a capped counter that had `committed` (settled plus held) already. */
export function refusal(counter: Counter, committed: number): Reservation {
  return {
    granted: false,
    scope: counter.spender.scope,
    id: counter.spender.id,
    period: counter.period,
    limitNanoUsd: counter.cap as number,
    committedNanoUsd: committed,
  };
}
