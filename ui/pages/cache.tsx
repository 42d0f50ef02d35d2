import { useState } from "preact/hooks";
import { admin, query } from "../api.ts";
import { Choice, RangeChoice } from "../parts/choice.tsx";
import { ErrorAlert, Tile } from "../parts/notices.tsx";
import { useLoad } from "../parts/use-query.ts";
import { type Column, VirtualTable } from "../parts/virtual-table.tsx";
import { boundsOf, count, type Range, ranges, usd } from "../ranges.ts";

/** A row of cache-savings.sql: the cache's use by one model or key, or by all (`name` "all"). */
interface Savings {
  name: string;
  total_lookups: string;
  total_hits: string;
  total_tokens_saved: string;
  total_cost_saved: string;
}

const splits = [
  { id: "model", label: "model" },
  { id: "key", label: "key" },
] as const;

const hitRate = (row: Savings | undefined) =>
  Number(row?.total_lookups ?? 0)
    ? `${((Number(row?.total_hits) / Number(row?.total_lookups)) * 100).toFixed(1)} %`
    : "–";

const columns = (split: string): Array<Column<Savings>> => [
  { label: split === "key" ? "Key id" : "Model", width: "1fr", cell: (row) => row.name },
  { label: "Lookups", width: "8em", cell: (row) => count(row.total_lookups) },
  { label: "Hits", width: "8em", cell: (row) => count(row.total_hits) },
  { label: "Hit rate", width: "8em", cell: hitRate },
  { label: "Tokens saved", width: "10em", cell: (row) => count(row.total_tokens_saved) },
  { label: "Cost saved", width: "9em", cell: (row) => usd(row.total_cost_saved) },
];

/** What the answer cache did over a range (hit rate, hits, tokens and cost saved), by model or key; admins may purge it. */
export function Cache(props: { canPurge: boolean }) {
  const [range, setRange] = useState<Range>(ranges[1]);
  const [split, setSplit] = useState("model");
  const { data, error } = useLoad(
    async () => {
      const { from, to } = boundsOf(range);
      const [all, rows] = await Promise.all([
        query<Savings>("cache-savings", { from, to }),
        query<Savings>("cache-savings", { from, to, by: split, limit: 500 }),
      ]);
      return { all: all.rows[0], rows: rows.rows };
    },
    [range, split],
    1000,
  );
  const all = data?.all;
  return (
    <section aria-labelledby="cache-title">
      <header class="page-head">
        <h1 id="cache-title">Cache</h1>
        <RangeChoice value={range} onChange={setRange} />
        <Choice label="Split by" options={[...splits]} value={split} onChange={setSplit} />
      </header>
      <ErrorAlert message={error} />
      <div class="tiles">
        <Tile label="Hit rate" value={hitRate(all)} detail="hits among lookups (bypassed ones left out)" />
        <Tile
          label="Hits"
          value={count(all?.total_hits ?? 0)}
          detail={`of ${count(all?.total_lookups ?? 0)}`}
        />
        <Tile label="Tokens saved" value={count(all?.total_tokens_saved ?? 0)} />
        <Tile label="Cost saved" value={usd(all?.total_cost_saved ?? 0)} />
      </div>
      <VirtualTable
        label={`Cache by ${split}`}
        rows={data?.rows ?? []}
        columns={columns(split)}
        rowKey={(row) => row.name}
      />
      {props.canPurge && <PurgeForm />}
    </section>
  );
}

/** Drops the cached answers of a key, a model or both (POST /admin/cache/purge), saying how many. */
function PurgeForm() {
  const [answer, setAnswer] = useState<{ text: string; failed?: boolean }>();
  return (
    <form
      class="filters purge"
      aria-labelledby="purge-title"
      onSubmit={(event) => {
        event.preventDefault();
        const fields = new FormData(event.currentTarget);
        const scope = Object.fromEntries(
          ["keyId", "model"]
            .map((name) => [name, String(fields.get(name) ?? "").trim()])
            .filter(([, value]) => value !== ""),
        );
        admin.send<{ purged: number }>("POST", "/admin/cache/purge", scope).then(
          ({ purged }) =>
            setAnswer({ text: `Purged ${count(purged)} cached answer${purged === 1 ? "" : "s"}.` }),
          (failure: Error) => setAnswer({ text: failure.message, failed: true }),
        );
      }}
    >
      <h2 id="purge-title">Purge</h2>
      <label>
        Key id
        <input name="keyId" autocomplete="off" />
      </label>
      <label>
        Model
        <input name="model" autocomplete="off" />
      </label>
      <button type="submit">Purge</button>
      <p class={answer?.failed ? "error" : "meta"} role="status">
        {answer?.text}
      </p>
    </form>
  );
}
