import type { QueryResult } from "../api.ts";
import { type Column, VirtualTable } from "./virtual-table.tsx";

type Row = Record<string, unknown>;

/** A value as text: maps, arrays and tuples as JSON, NULL as ClickHouse writes it. */
function textOf(value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

/** Any query's rows, with the columns its answer names; a cut-off value shows whole as its tooltip. */
export function ResultTable(props: { result: QueryResult<Row>; label: string }) {
  const columns: Array<Column<Row>> = props.result.columns.map((column) => ({
    label: column.name,
    width: "minmax(6em, 1fr)",
    cell: (row) => {
      const text = textOf(row[column.name]);
      return <span title={text}>{text}</span>;
    },
  }));
  return (
    <VirtualTable
      label={props.label}
      rows={props.result.rows}
      columns={columns}
      rowKey={(_, index) => String(index)}
    />
  );
}
