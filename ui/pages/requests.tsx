import { useEffect, useState } from "preact/hooks";
import { query } from "../api.ts";
import { type Column, VirtualTable } from "../parts/virtual-table.tsx";
import { boundsOf, count, milliseconds, ranges, usd } from "../ranges.ts";
import { Choice } from "./overview.tsx";

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

const pageSize = 200;

const columns: Array<Column<RequestRow>> = [
  {
    label: "Time",
    width: "11em",
    cell: (row) => new Date(Number(row.received_at_ms)).toISOString().slice(5, 23).replace("T", " "),
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
  const [failedOver, setFailedOver] = useState(false);
  const [rows, setRows] = useState<RequestRow[]>([]);
  const [done, setDone] = useState(false);
  const [error, setError] = useState<string>();
  const [loading, setLoading] = useState(false);
  const [revision, setRevision] = useState(0);

  const load = async (after: RequestRow | undefined) => {
    setLoading(true);
    try {
      const { from, to } = boundsOf(range);
      const page = await query<RequestRow>("requests-page", {
        from,
        to,
        ...filters,
        failed_over: failedOver ? 1 : 0,
        limit: pageSize,
        ...(after && { before_at: Number(after.received_at_ms), before_id: after.request_id }),
      });
      setRows((current) => (after ? [...current, ...page.rows] : page.rows));
      setDone(page.rows.length < pageSize);
      setError(undefined);
    } catch (failure) {
      setError(String((failure as Error).message));
    } finally {
      setLoading(false);
    }
  };
  // A new search starts from the newest; while nothing newer is asked, new requests are looked for every second.
  useEffect(() => {
    void load(undefined);
    const timer = setInterval(() => setRevision((n) => n + 1), 1000);
    return () => clearInterval(timer);
  }, [range, filters, failedOver]);
  useEffect(() => {
    if (revision > 0 && rows.length <= pageSize) void load(undefined);
  }, [revision]);

  return (
    <section aria-labelledby="requests-title">
      <header class="page-head">
        <h1 id="requests-title">Requests</h1>
        <Choice
          label="Range"
          options={ranges.map((r) => ({ id: r.id, label: r.label }))}
          value={range.id}
          onChange={(id) => setRange(ranges.find((r) => r.id === id) ?? ranges[1])}
        />
      </header>
      <form
        class="filters"
        onSubmit={(event) => {
          event.preventDefault();
          const data = new FormData(event.currentTarget);
          setFilters(
            Object.fromEntries(
              [...data]
                .filter(([, value]) => String(value).trim() !== "")
                .map(([name, value]) => [name, String(value).trim()]),
            ),
          );
          setFailedOver(data.get("failed_over_only") === "on");
        }}
      >
        {filterFields.map((field) => (
          <label key={field.name}>
            {field.label}
            <input name={field.name} defaultValue={filters[field.name] ?? ""} />
          </label>
        ))}
        <label class="check">
          <input type="checkbox" name="failed_over_only" defaultChecked={failedOver} />
          Failed over
        </label>
        <button type="submit">Apply</button>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <p class="meta" aria-live="polite">
        {count(rows.length)} request{rows.length === 1 ? "" : "s"}
        {done ? "" : " so far, more as you scroll"}
        {loading ? " · loading…" : ""}
      </p>
      <VirtualTable
        label="Requests"
        rows={rows}
        columns={columns}
        rowKey={(row) => row.request_id}
        onOpen={(row) => props.open(row.request_id)}
        onEnd={() => {
          if (!done && !loading) void load(rows.at(-1));
        }}
      />
    </section>
  );
}
