import { type Budgeted, type BudgetPeriod, budgets } from "../api.ts";
import { usd } from "../ranges.ts";
import { ErrorAlert } from "./notices.tsx";
import { useLoad } from "./use-query.ts";

const periodNames = { day: "daily", month: "monthly", total: "total" } as const;
const periodEnds = { day: "the day's end", month: "the month's end", total: "" } as const;

/**
 * Where a period's spend is heading, linearly: what it spent so far over the part of the period
 * that has passed. All time has no end to forecast to, and a period just begun has no pace yet.
 */
function forecastOf(budget: BudgetPeriod, atMs: number): { text: string; exceeds: boolean } | undefined {
  const { startMs, endMs, spentUsd } = budget;
  if (startMs === null || endMs === null || spentUsd === null || atMs <= startMs) return undefined;
  const projected = spentUsd / ((atMs - startMs) / (endMs - startMs));
  return projected > budget.capUsd
    ? {
        text: `will exceed by ${usd(projected - budget.capUsd)} at ${periodEnds[budget.period]}`,
        exceeds: true,
      }
    : { text: `on track: about ${usd(projected)} by ${periodEnds[budget.period]}`, exceeds: false };
}

/** The name of a team or key as the page says it: set as text, as every name users chose. */
function nameOf(owner: Budgeted): string {
  const named = owner.name && owner.name !== owner.id ? `${owner.name} (${owner.id})` : owner.id;
  return owner.scope === "team" ? `Team ${named}` : `Key ${named} · team ${owner.team}`;
}

/** One period of a budget as a bar: spent, then held, out of the cap; what is left; the forecast. */
function BudgetBar(props: { owner: string; budget: BudgetPeriod; atMs: number }) {
  const { budget } = props;
  const spent = budget.spentUsd ?? 0;
  const held = budget.heldUsd ?? 0;
  const remaining = Math.max(0, budget.capUsd - spent - held);
  const share = (amount: number) => `${Math.min(100, (amount / budget.capUsd) * 100)}%`;
  const known = budget.spentUsd !== null;
  const summary = known
    ? `${usd(spent)} spent, ${usd(held)} held, ${usd(remaining)} left of ${usd(budget.capUsd)}`
    : `spend unavailable (the budget ledger does not answer); cap ${usd(budget.capUsd)}`;
  const forecast = forecastOf(budget, props.atMs);
  return (
    <div class="budget">
      <div
        class={`budget-bar${forecast?.exceeds ? " exceeds" : ""}`}
        role="progressbar"
        aria-label={`${props.owner} ${periodNames[budget.period]} budget`}
        aria-valuemin={0}
        aria-valuemax={budget.capUsd}
        aria-valuenow={known ? spent : undefined}
        aria-valuetext={summary}
      >
        <span class="budget-spent" style={{ width: share(spent) }} />
        <span class="budget-held" style={{ width: share(held) }} />
      </div>
      <span class="meta">
        {periodNames[budget.period]}: {summary}
        {forecast && ` · ${forecast.text}`}
      </span>
    </div>
  );
}

/**
 * The budgets this session may see, with spend counted by the budget ledger (the same counters
 * that refuse a call over its cap), so they move as soon as a call settles.
 */
export function Budgets() {
  const { data, error } = useLoad(budgets, [], 2000);
  return (
    <section aria-labelledby="budgets-title">
      <h2 id="budgets-title">Budgets</h2>
      <ErrorAlert message={error} />
      {data?.data.length === 0 && <p class="meta">No team or key here has a budget.</p>}
      <ul class="budgets">
        {data?.data.map((owner) => (
          <li key={`${owner.scope}:${owner.id}`}>
            <strong>{nameOf(owner)}</strong>
            {owner.periods.map((budget) => (
              <BudgetBar key={budget.period} owner={nameOf(owner)} budget={budget} atMs={data.atMs} />
            ))}
          </li>
        ))}
      </ul>
    </section>
  );
}
