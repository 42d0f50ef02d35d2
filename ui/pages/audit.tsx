import { useState } from "preact/hooks";
import { query } from "../api.ts";
import { RangeChoice } from "../parts/choice.tsx";
import { FilterForm } from "../parts/filter-form.tsx";
import { PagedTable } from "../parts/paged-table.tsx";
import { usePages } from "../parts/use-pages.ts";
import type { Column } from "../parts/virtual-table.tsx";
import { boundsOf, type Range, ranges, shortTime } from "../ranges.ts";

interface AuditRow {
  at_ms: number;
  id: string;
  actor_kind: string;
  actor_key_id: string;
  actor_team: string;
  action: string;
  target: string;
  outcome: string;
  reason: string;
  source_ip: string;
  user_agent: string;
  request_id: string;
  details: Record<string, string>;
}

/** The names are audit-log.sql's parameters. */
const filterFields = [
  { name: "key", label: "Actor (key id)" },
  { name: "team", label: "Actor's team" },
  { name: "action", label: "Action (or its start, e.g. team.)" },
  { name: "target", label: "Target (key, team or request)" },
  { name: "outcome", label: "Outcome (allowed, denied, failed)" },
] as const;

const columns: Array<Column<AuditRow>> = [
  { label: "Time", width: "11em", cell: (row) => shortTime(row.at_ms) },
  {
    label: "Actor",
    width: "1fr",
    cell: (row) =>
      [row.actor_kind, row.actor_key_id, row.actor_team && `team ${row.actor_team}`]
        .filter(Boolean)
        .join(" · "),
  },
  { label: "Action", width: "1fr", cell: (row) => row.action },
  { label: "Target", width: "1fr", cell: (row) => row.target || "–" },
  { label: "Outcome", width: "6em", cell: (row) => row.outcome },
  { label: "Reason", width: "1.5fr", cell: (row) => row.reason || "–" },
  { label: "From", width: "9em", cell: (row) => row.source_ip || "–" },
  {
    label: "Details",
    width: "1fr",
    cell: (row) =>
      Object.entries(row.details)
        .map(([key, value]) => `${key}=${value}`)
        .join(", ") || "–",
  },
];

/** Who did what to which key, team or request, and how it ended: newest first, filtered, every page. */
export function Audit() {
  const [range, setRange] = useState<Range>(ranges[2]);
  const [filters, setFilters] = useState<Record<string, string>>({});
  const pages = usePages<AuditRow>(
    async (after, limit) => {
      const { from, to } = boundsOf(range);
      const page = await query<AuditRow>("audit-log", {
        from,
        to,
        ...filters,
        limit,
        ...(after && { before_at: Number(after.at_ms), before_id: after.id }),
      });
      return page.rows;
    },
    [range, filters],
  );
  return (
    <section aria-labelledby="audit-title">
      <header class="page-head">
        <h1 id="audit-title">Audit log</h1>
        <RangeChoice value={range} onChange={setRange} />
      </header>
      <FilterForm fields={filterFields} values={filters} onApply={setFilters} />
      <PagedTable
        pages={pages}
        label="Audit log"
        noun={["entry", "entries"]}
        columns={columns}
        rowKey={(row) => row.id}
      />
    </section>
  );
}
