import type { BudgetAlert, BudgetLedger, BudgetPeriod, Reservation, Spender } from "../contracts.ts";
import { bucketOf, budgetPeriods, countersOf, crossing, refusal } from "./periods.ts";

interface Account {
  settled: number;
  holds: Map<string, { amount: number; expiresAtMs: number }>;
}

/**
 * Budgets counted in this process's memory: the embedded, one-process mode. JavaScript runs one
 * reserve at a time, so check-and-hold is atomic as the Redis script is. Spend starts from zero
 * at each start.
 */
export class MemoryLedger implements BudgetLedger {
  private readonly accounts = new Map<string, Account>();

  constructor(
    private readonly defaultSoftLimitPercent: number,
    private readonly now: () => number = Date.now,
  ) {}

  async reserve(holdId: string, spenders: Spender[], amount: number, holdMs: number): Promise<Reservation> {
    const now = this.now();
    const capped = countersOf(spenders, now).filter((counter) => counter.cap !== undefined);
    for (const counter of capped) {
      const committed = this.committed(this.account(counter.name), now);
      if (committed + amount > (counter.cap as number)) return refusal(counter, committed);
    }
    for (const counter of capped)
      this.account(counter.name).holds.set(holdId, { amount, expiresAtMs: now + holdMs });
    return { granted: true };
  }

  async settle(holdId: string, spenders: Spender[], cost: number): Promise<BudgetAlert[]> {
    const alerts: BudgetAlert[] = [];
    for (const counter of countersOf(spenders, this.now())) {
      const account = this.account(counter.name);
      account.holds.delete(holdId);
      const before = account.settled;
      account.settled += cost;
      const alert = crossing(counter, before, account.settled, this.defaultSoftLimitPercent);
      if (alert) alerts.push(alert);
    }
    return alerts;
  }

  async spend(scope: Spender["scope"], id: string, _slot: string) {
    const now = this.now();
    const entries = budgetPeriods.map((period) => {
      const account = this.accounts.get(`${scope}:${id}:${period}:${bucketOf(period, now)}`);
      const held = account ? this.committed(account, now) - account.settled : 0;
      return [period, { spentNanoUsd: account?.settled ?? 0, heldNanoUsd: held }] as const;
    });
    return Object.fromEntries(entries) as Record<BudgetPeriod, { spentNanoUsd: number; heldNanoUsd: number }>;
  }

  private account(name: string): Account {
    let account = this.accounts.get(name);
    if (!account) {
      account = { settled: 0, holds: new Map() };
      this.accounts.set(name, account);
    }
    return account;
  }

  /** Settled spend plus live holds; lapsed holds are dropped on the way. */
  private committed(account: Account, now: number): number {
    let total = account.settled;
    for (const [id, hold] of account.holds) {
      if (hold.expiresAtMs <= now) account.holds.delete(id);
      else total += hold.amount;
    }
    return total;
  }
}
