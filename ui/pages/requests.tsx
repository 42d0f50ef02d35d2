import { useState } from "preact/hooks";
import { query } from "../api.ts";
import { RangeChoice } from "../parts/choice.tsx";
import { FilterForm } from "../parts/filter-form.tsx";
import { PagedTable } from "../parts/paged-table.tsx";
import { usePages } from "../parts/use-pages.ts";
import type { Column } from "../parts/virtual-table.tsx";
import { boundsOf, count, milliseconds, ranges, shortTime, usd } from "../ranges.ts";

export interface RequestRow {
  request_id: string;
  received_at_ms: number;
  key_id: string;
  team: string;
  end_user: string;
  tags: Record<string, string>;
  model_requested: string;
  provider: string;
  provider_model: string;
  priority: string;
  cache: string;
  outcome: string;
  status: number;
  error_code: string;
  input_tokens: number;
  output_tokens: number;
  cost_usd: string;
  duration_ms: number | null;
  ttft_ms: number | null;
}

const filterFields = [
  { name: "q", label: "Search (request id, key, user, tag value)" },
  { name: "team", label: "Team" },
  { name: "key", label: "Key id" },
  { name: "model", label: "Model" },
  { name: "deployment", label: "Deployment (provider/model)" },
  { name: "priority", label: "Priority" },
  { name: "outcome", label: "Outcome" },
  { name: "status", label: "Status" },
  { name: "cache", label: "Cache" },
  { name: "min_duration_ms", label: "Latency at least (ms)" },
  { name: "min_ttft_ms", label: "Time to first token at least (ms)" },
  { name: "min_tokens", label: "Tokens at least" },
  { name: "min_cost", label: "Cost at least (USD)" },
] as const;

const columns: Array<Column<RequestRow>> = [
  {
    label: "Time",
    width: "11em",
    cell: (row) => shortTime(row.received_at_ms),
  },
  { label: "Model", width: "1fr", cell: (row) => row.model_requested },
  {
    label: "Deployment",
    width: "1fr",
    cell: (row) => (row.provider ? `${row.provider}/${row.provider_model}` : "–"),
  },
  { label: "Key / team", width: "1fr", cell: (row) => `${row.key_id}${row.team ? ` · ${row.team}` : ""}` },
  { label: "Status", width: "5em", cell: (row) => String(row.status) },
  { label: "Latency", width: "7em", cell: (row) => milliseconds(row.duration_ms) },
  { label: "TTFT", width: "7em", cell: (row) => milliseconds(row.ttft_ms) },
  {
    label: "Tokens",
    width: "7em",
    cell: (row) => count(Number(row.input_tokens) + Number(row.output_tokens)),
  },
  { label: "Cost", width: "7em", cell: (row) => usd(row.cost_usd) },
  { label: "Cache", width: "6em", cell: (row) => row.cache || "–" },
];

/** The request log: filter, search, scroll through pages of any length, open one. */
export function Requests(props: { open: (id: string) => void }) {
  const [range, setRange] = useState<(typeof ranges)[number]>(ranges[1]);
  const [filters, setFilters] = useState<Record<string, string>>({});
  const pages = usePages<RequestRow>(
    async (after, limit) => {
      const { from, to } = boundsOf(range);
      const page = await query<RequestRow>("requests-page", {
        from,
        to,
        ...filters,
        limit,
        ...(after && { before_at: Number(after.received_at_ms), before_id: after.request_id }),
      });
      return page.rows;
    },
    [range, filters],
  );

  return (
    <section aria-labelledby="requests-title">
      <header class="page-head">
        <h1 id="requests-title">Requests</h1>
        <RangeChoice value={range} onChange={setRange} />
      </header>
      <FilterForm fields={filterFields} values={filters} onApply={setFilters}>
        <label class="check">
          <input type="checkbox" name="failed_over" value="1" defaultChecked={filters.failed_over === "1"} />
          Failed over
        </label>
      </FilterForm>
      <PagedTable
        pages={pages}
        label="Requests"
        noun={["request", "requests"]}
        columns={columns}
        rowKey={(row) => row.request_id}
        onOpen={(row) => props.open(row.request_id)}
      />
    </section>
  );
}
