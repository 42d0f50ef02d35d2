import type { BudgetLedger, BudgetPeriod, Spender } from "../contracts.ts";

/** What a spender has spent (settled) and holds (in flight) in one period, in USD. */
export interface UsdSpend {
  spentUsd: number;
  heldUsd: number;
}

/**
 * A spender's counters in USD for people and scripts reading them (the admin API, the dashboard);
 * null while the ledger's store is down: the record is still worth showing without them.
 */
export async function spendInUsd(
  ledger: BudgetLedger,
  scope: Spender["scope"],
  id: string,
  slot: string,
): Promise<Record<BudgetPeriod, UsdSpend> | null> {
  try {
    const spend = await ledger.spend(scope, id, slot);
    return Object.fromEntries(
      Object.entries(spend).map(([period, { spentNanoUsd, heldNanoUsd }]) => [
        period,
        { spentUsd: spentNanoUsd / 1e9, heldUsd: heldNanoUsd / 1e9 },
      ]),
    ) as Record<BudgetPeriod, UsdSpend>;
  } catch {
    return null;
  }
}
