import { useMemo, useState } from "preact/hooks";
import { query, queryUrl } from "../api.ts";
import { Budgets } from "../parts/budgets.tsx";
import { type Series, TimeChart } from "../parts/chart.tsx";
import { Choice, RangeChoice } from "../parts/choice.tsx";
import { ErrorAlert } from "../parts/notices.tsx";
import { useLoad } from "../parts/use-query.ts";
import { type Column, VirtualTable } from "../parts/virtual-table.tsx";
import { boundsOf, count, type Range, ranges, spanOf, usd } from "../ranges.ts";

/** A row of analytics/dashboard/spend-by.sql: one group's totals, and its cost per time step. */
interface SpendRow {
  group_name: string;
  total_requests: string;
  total_input_tokens: string;
  total_output_tokens: string;
  total_cost: string;
  /** The start of each step with spend, in Unix seconds, and its cost. */
  cost_per_step: Record<string, number>;
}

/** What spend may be grouped by (the query's `by`), with the table's column and the chart's words. */
const groupings = [
  { id: "team", label: "team", column: "Team", plural: "teams" },
  { id: "key", label: "key", column: "Key id", plural: "keys" },
  { id: "user", label: "user", column: "End user", plural: "users" },
  { id: "model", label: "model", column: "Model", plural: "models" },
  { id: "tag", label: "tag", column: "Tag (name=value)", plural: "tags" },
] as const;

type Grouping = (typeof groupings)[number];

/** How many groups the chart draws: the dearest; the table has them all, up to the query's limit. */
const charted = 5;
const limit = 1000;

const columnsFor = (grouping: Grouping): Array<Column<SpendRow>> => [
  { label: grouping.column, width: "2fr", cell: (row) => row.group_name },
  { label: "Requests", width: "8em", cell: (row) => count(row.total_requests) },
  {
    label: "Tokens in / out",
    width: "12em",
    cell: (row) => `${count(row.total_input_tokens)} / ${count(row.total_output_tokens)}`,
  },
  { label: "Cost", width: "8em", cell: (row) => usd(row.total_cost) },
];

/** The cost of the dearest groups at every step of the span (a step without spend cost nothing). */
function costSeries(rows: SpendRow[], step: number, span: [number, number]) {
  const times: number[] = [];
  for (let at = Math.floor(span[0] / step) * step; at < span[1]; at += step) times.push(at);
  const series: Series[] = rows.slice(0, charted).map((row) => ({
    label: row.group_name,
    values: times.map((at) => row.cost_per_step[at] ?? 0),
  }));
  return { times, series };
}

/**
 * Who spends what: cost, requests and tokens over a chosen range grouped by team, key, user,
 * model or tag, the dearest groups' cost over time, a CSV of the groups, and the budgets.
 */
export function Spend() {
  const [range, setRange] = useState<Range>(ranges[2]);
  const [grouping, setGrouping] = useState<Grouping>(groupings[0]);
  const params = (bounds: { from: number; to: number }) => ({
    ...bounds,
    by: grouping.id,
    step: range.stepSeconds,
    limit,
  });
  // The grouping reads every request of the range, not a rollup: every 5 s is live enough for spend.
  const { data, error } = useLoad(
    async () => (await query<SpendRow>("spend-by", params(boundsOf(range)))).rows,
    [range, grouping],
    5000,
  );
  const rows = data ?? [];
  const span = spanOf(range);
  const chart = useMemo(() => costSeries(rows, range.stepSeconds, span), [rows, range, span[1]]);
  return (
    <section class="spend" aria-labelledby="spend-title">
      <header class="page-head">
        <h1 id="spend-title">Spend</h1>
        <RangeChoice value={range} onChange={setRange} />
        <Choice
          label="Group by"
          options={groupings}
          value={grouping.id}
          onChange={(id) => setGrouping(groupings.find((g) => g.id === id) ?? groupings[0])}
        />
        <a
          class="button"
          href={queryUrl("spend-by", { ...params(boundsOf(range)), format: "csv" })}
          download={`spend-by-${grouping.id}.csv`}
        >
          Download CSV
        </a>
      </header>
      <ErrorAlert message={error} />
      <TimeChart
        title={`Cost (USD) of the ${charted} dearest ${grouping.plural}`}
        times={chart.times}
        series={chart.series}
        span={span}
      />
      <VirtualTable
        label={`Spend by ${grouping.label}`}
        rows={rows}
        columns={columnsFor(grouping)}
        rowKey={(row) => row.group_name}
      />
      <Budgets />
    </section>
  );
}
