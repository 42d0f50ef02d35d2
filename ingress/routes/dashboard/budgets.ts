import type { FastifyPluginAsync } from "fastify";
import { budgetPeriods, capNanoUsd, periodBounds } from "../../../governance/budgets/periods.ts";
import { spendInUsd, type UsdSpend } from "../../../governance/budgets/spend-in-usd.ts";
import type { BudgetLedger, BudgetPeriod, Spender } from "../../../governance/contracts.ts";
import type { KeyAdmin, ListedKey } from "../../../governance/keys/admin.ts";
import type { Caller } from "../../../governance/keys/keyring.ts";
import type { Budget, TeamRecord } from "../../../schemas/governance-record.ts";
import { authenticateDashboard } from "./session.ts";

export interface DashboardBudgetOptions {
  /** Every team and key, for admin sessions. */
  admin: KeyAdmin;
  ledger: BudgetLedger;
}

/** A team or key that may have a budget: only what the page shows, never a key's hash. */
interface Owner {
  scope: Spender["scope"];
  id: string;
  name: string | null;
  team: string;
  budget: Budget | null;
}

/** One capped period of a budget: its cap, its bounds (none for all time) and what is spent and held. */
interface BudgetPeriodView {
  period: BudgetPeriod;
  capUsd: number;
  startMs: number | null;
  endMs: number | null;
  /** Null while the ledger's store is down. */
  spentUsd: number | null;
  heldUsd: number | null;
}

interface BudgetView extends Omit<Owner, "budget"> {
  periods: BudgetPeriodView[];
}

const teamOwner = (team: TeamRecord): Owner => ({
  scope: "team",
  id: team.id,
  name: team.name,
  team: team.id,
  budget: team.budget,
});

const keyOwner = (key: ListedKey): Owner => ({
  scope: "key",
  id: key.id,
  name: key.name,
  team: key.team,
  budget: key.budget,
});

/** Admins see every team, and every key not revoked; a team's session its own team and key. */
function ownersFor(caller: Caller, admin: KeyAdmin): Owner[] {
  if (caller.admin)
    return [
      ...admin.teams().map(teamOwner),
      ...admin
        .keys()
        .filter((key) => key.revokedAtMs === null)
        .map(keyOwner),
    ];
  return caller.grant ? [teamOwner(caller.grant.team), keyOwner(caller.grant.key)] : [];
}

const isCapped = (budget: Budget | null): budget is Budget =>
  budget !== null && budgetPeriods.some((period) => capNanoUsd(budget, period) !== undefined);

/** A budget's capped periods: each one's bounds now, and what is spent and held in it. */
function periodsOf(
  budget: Budget,
  spend: Record<BudgetPeriod, UsdSpend> | null,
  atMs: number,
): BudgetPeriodView[] {
  return budgetPeriods.flatMap((period) => {
    const cap = capNanoUsd(budget, period);
    if (cap === undefined) return [];
    const bounds = periodBounds(period, atMs);
    return [
      {
        period,
        capUsd: cap / 1e9,
        startMs: bounds?.startMs ?? null,
        endMs: bounds?.endMs ?? null,
        spentUsd: spend?.[period].spentUsd ?? null,
        heldUsd: spend?.[period].heldUsd ?? null,
      },
    ];
  });
}

/**
 * GET /ui/api/budgets: the budgets the Spend view shows, read-only: each budgeted team's and key's
 * caps with what the ledger counts as spent and held in each period, and the period's bounds for
 * a forecast. The admin API is closed to a team's session, so this answers it too, with its own
 * team and key only.
 */
export const dashboardBudgetRoutes: FastifyPluginAsync<DashboardBudgetOptions> = async (
  app,
  { admin, ledger },
) => {
  app.get("/ui/api/budgets", async (request) => {
    const caller = authenticateDashboard(app, request);
    const atMs = Date.now();
    const data: BudgetView[] = await Promise.all(
      ownersFor(caller, admin).flatMap(({ budget, ...owner }) =>
        isCapped(budget)
          ? [
              spendInUsd(ledger, owner.scope, owner.id, owner.team).then((spend) => ({
                ...owner,
                periods: periodsOf(budget, spend, atMs),
              })),
            ]
          : [],
      ),
    );
    return { object: "list", atMs, data };
  });
};
