import type { ClickHouseClient } from "@clickhouse/client";
import { mean, quantile, slowestShare } from "../stats.ts";

/**
 * One request's path through the gateway, from its own events in ClickHouse (ms): `inbound` from
 * the ingress receiving it to a worker starting on it (the ingress's admission, the produce, the
 * Kafka hop, the worker's fetch and queue), `call` the worker's claim and the upstream call,
 * `outbound` from the call's end to the ingress finishing the answer (the worker's finish, the
 * Redis reply, the ingress's dispatch).
 */
export interface RequestStages {
  inbound: number;
  call: number;
  outbound: number;
  total: number;
}

export const stageNames = ["inbound", "call", "outbound"] as const;

/** The stages of every request the ingress received in [fromMs, toMs) and finished. */
export async function requestStages(
  client: ClickHouseClient,
  database: string,
  fromMs: number,
  toMs: number,
): Promise<RequestStages[]> {
  const result = await client.query({
    query: `
      SELECT
        toUnixTimestamp64Milli(r.received_at) AS received,
        toUnixTimestamp64Milli(a.started) AS started,
        toUnixTimestamp64Milli(a.called) AS called,
        toUnixTimestamp64Milli(assumeNotNull(r.finished_at)) AS finished
      FROM (
        SELECT request_id, received_at, finished_at FROM {database:Identifier}.requests FINAL
        WHERE stage = 'finished' AND received_at >= fromUnixTimestamp64Milli({from:Int64})
          AND received_at < fromUnixTimestamp64Milli({to:Int64})
      ) AS r
      INNER JOIN (
        SELECT request_id, min(started_at) AS started, max(finished_at) AS called
        FROM {database:Identifier}.attempts
        WHERE received_at >= fromUnixTimestamp64Milli({from:Int64})
          AND received_at < fromUnixTimestamp64Milli({to:Int64})
        GROUP BY request_id
      ) AS a USING request_id`,
    query_params: { database, from: fromMs, to: toMs },
    format: "JSONEachRow",
    // 64-bit integers as numbers, not strings: milliseconds since 1970 fit a double exactly.
    clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
  });
  const rows = await result.json<{ received: number; started: number; called: number; finished: number }>();
  return rows.map((row) => ({
    inbound: row.started - row.received,
    call: row.called - row.started,
    outbound: row.finished - row.called,
    total: row.finished - row.received,
  }));
}

/**
 * Each stage's median over all requests and its mean over the slowest `share` of them (by the
 * gateway's own time, received to finished): the stage whose mean grows most is where the tail is.
 */
export function stagesOfSlowest(requests: RequestStages[], share = 0.01) {
  const slowest = slowestShare(requests, (request) => request.total, share);
  const row = (stage: keyof RequestStages) => ({
    stage,
    medianOfAll: quantile(
      requests.map((request) => request[stage]),
      0.5,
    ),
    meanOfSlowest: mean(slowest.map((request) => request[stage])),
  });
  return {
    requests: requests.length,
    slowest: slowest.length,
    rows: [...stageNames, "total" as const].map(row),
  };
}
