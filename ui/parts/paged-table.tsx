import { count } from "../ranges.ts";
import { ErrorAlert } from "./notices.tsx";
import type { Pages } from "./use-pages.ts";
import { type Column, VirtualTable } from "./virtual-table.tsx";

/** A log's pages as a table that loads the next as the reader scrolls, with how many rows are shown. */
export function PagedTable<Row>(props: {
  pages: Pages<Row>;
  label: string;
  /** What a row is, singular and plural: "request", "requests". */
  noun: [string, string];
  columns: Array<Column<Row>>;
  rowKey: (row: Row) => string;
  onOpen?: (row: Row) => void;
}) {
  const { pages } = props;
  return (
    <>
      <ErrorAlert message={pages.error} />
      <p class="meta" aria-live="polite">
        {count(pages.rows.length)} {props.noun[pages.rows.length === 1 ? 0 : 1]}
        {pages.done ? "" : " so far, more as you scroll"}
        {pages.loading ? " · loading…" : ""}
      </p>
      <VirtualTable
        label={props.label}
        rows={pages.rows}
        columns={props.columns}
        rowKey={props.rowKey}
        onOpen={props.onOpen}
        onEnd={pages.more}
      />
    </>
  );
}
