import type { ClickHouseClient } from "@clickhouse/client";
import type { GatewayConfig } from "../config/schema.ts";

/** Limits of a query an admin sends: ClickHouse enforces them, and readonly keeps them from being lifted. */
export type QueryLimits = GatewayConfig["analytics"]["query"];

export interface QueryResult {
  rows: Record<string, unknown>[];
  /** Column names and ClickHouse types, in order. */
  columns: Array<{ name: string; type: string }>;
  elapsedMs: number;
}

/**
 * Runs one SQL statement as a reader: `readonly = 1` (no writes, no DDL, and no SETTINGS clause
 * can raise the limits sent with it), a time limit and a result-row limit, both checked by
 * ClickHouse itself. Named `{name:Type}` parameters are bound by ClickHouse, never spliced in.
 */
export async function readOnlyQuery(
  client: ClickHouseClient,
  sql: string,
  params: Record<string, unknown>,
  limits: QueryLimits,
): Promise<QueryResult> {
  const started = performance.now();
  const result = await client.query({
    query: sql,
    query_params: params,
    format: "JSON",
    clickhouse_settings: {
      readonly: "1",
      max_execution_time: limits.maxExecutionSeconds,
      max_result_rows: String(limits.maxResultRows),
      result_overflow_mode: "throw",
      // Money stays exact: decimals as strings, never rounded through a float.
      output_format_json_quote_decimals: 1,
      output_format_decimal_trailing_zeros: 1,
    },
  });
  const body = await result.json<Record<string, unknown>>();
  return {
    rows: body.data,
    columns: (body.meta ?? []).map(({ name, type }) => ({ name, type })),
    elapsedMs: Math.round((performance.now() - started) * 100) / 100,
  };
}
