import type { QueryResult } from "../api.ts";
import { TimeChart } from "./chart.tsx";

type Row = Record<string, unknown>;
type Column = QueryResult<Row>["columns"][number];

/** A ClickHouse type without the wrappers that do not change what its values are. */
function bare(type: string): string {
  const inner = /^(?:Nullable|LowCardinality)\((.*)\)$/.exec(type)?.[1];
  return inner === undefined ? type : bare(inner);
}

const isNumeric = (column: Column) => /^(?:U?Int\d+|Float\d+|Decimal)/.test(bare(column.type));

/** UInt32 counts as seconds since the epoch only where every value lies in 2000–2100: not a status or a count. */
const epochSpan = [946_684_800, 4_102_444_800] as const;

/**
 * Seconds since the epoch of a time-like value: DateTime, DateTime64 and Date come as text, read as
 * UTC (the gateway's tables keep UTC; a column in another zone is shifted by its offset).
 */
function secondsOf(value: unknown, type: string): number | null {
  if (type === "UInt32") return Number(value);
  const text = String(value);
  const ms = Date.parse(`${text.replace(" ", "T")}${text.length === 10 ? "T00:00:00" : ""}Z`);
  return Number.isNaN(ms) ? null : ms / 1000;
}

function isTimeLike(column: Column, rows: Row[]): boolean {
  const type = bare(column.type);
  if (/^(?:DateTime|Date)/.test(type)) return true;
  return (
    type === "UInt32" &&
    rows.every((row) => {
      const value = Number(row[column.name]);
      return value >= epochSpan[0] && value <= epochSpan[1];
    })
  );
}

/**
 * A time axis around a single time (a day for a date, a minute else): left to itself, uPlot spreads
 * one point over years.
 */
function spanOf(times: number[], type: string): [number, number] | undefined {
  const [first] = times;
  if (first === undefined || times.some((time) => time !== first)) return undefined;
  const pad = /^Date(?:32)?$/.test(type) ? 86_400 : 60;
  return [first - pad, first + pad];
}

const numberOf = (value: unknown) => (value === null || value === undefined ? null : Number(value));

/**
 * The x axis of a result: times in ascending order (uPlot draws x ascending; a query may order its
 * rows newest first), or, for any other first column, its values as categories in the rows' order.
 */
function axisOf(first: Column, rows: Row[]): { times: number[]; ordered: Row[]; categories?: string[] } {
  if (!isTimeLike(first, rows))
    return {
      times: rows.map((_, index) => index),
      ordered: rows,
      categories: rows.map((row) => String(row[first.name] ?? "")),
    };
  const timed = rows
    .map((row) => ({ row, at: secondsOf(row[first.name], bare(first.type)) }))
    .filter((point): point is { row: Row; at: number } => point.at !== null)
    .sort((a, b) => a.at - b.at);
  return { times: timed.map((point) => point.at), ordered: timed.map((point) => point.row) };
}

/**
 * A query's result as a chart, where it makes one: a time-like first column and numeric columns
 * become lines over time; any other first column names a place per row on the x axis, where each
 * numeric column stands as a bar. No chart without a numeric column after the first.
 */
export function ResultChart(props: { result: QueryResult<Row> }) {
  const { columns, rows } = props.result;
  const [first, ...rest] = columns;
  const measures = rest.filter(isNumeric);
  if (!first || measures.length === 0 || rows.length === 0) return null;
  const { times, ordered, categories } = axisOf(first, rows);
  return (
    <TimeChart
      title={`${measures.map((column) => column.name).join(", ")} by ${first.name}`}
      times={times}
      span={categories ? undefined : spanOf(times, bare(first.type))}
      categories={categories}
      series={measures.map((column) => ({
        label: column.name,
        values: ordered.map((row) => numberOf(row[column.name])),
      }))}
    />
  );
}
