import type { ClickHouseClient } from "@clickhouse/client";

export interface QueryResult {
  rows: Record<string, unknown>[];
  /** Column names and ClickHouse types, in order. */
  columns: Array<{ name: string; type: string }>;
  elapsedMs: number;
  /** The totals row of a `GROUP BY … WITH TOTALS` (its key columns empty), when the query asks for one. */
  totals?: Record<string, unknown>;
}

/**
 * Runs one SQL statement as the reader user. Nothing is sent with it but the statement and its
 * parameters: the limits, readonly and the output format live in the user's settings profile
 * (user.ts), where the statement cannot change them. Named `{name:Type}` parameters are bound by
 * ClickHouse, never spliced in.
 */
export async function readerQuery(
  client: ClickHouseClient,
  sql: string,
  params: Record<string, unknown>,
): Promise<QueryResult> {
  const started = performance.now();
  const result = await client.query({ query: sql, query_params: params, format: "JSON" });
  const body = (await result.json<Record<string, unknown>>()) as Awaited<
    ReturnType<typeof result.json<Record<string, unknown>>>
  > & { totals?: Record<string, unknown> };
  return {
    ...(body.totals && { totals: body.totals }),
    rows: body.data,
    columns: (body.meta ?? []).map(({ name, type }) => ({ name, type })),
    elapsedMs: Math.round((performance.now() - started) * 100) / 100,
  };
}
