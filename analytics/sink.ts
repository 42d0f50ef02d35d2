import { createHash, randomUUID } from "node:crypto";
import type { ClickHouseClient } from "@clickhouse/client";
import type { EventBatch, EventConsumer } from "../bus/messaging.ts";
import type { Logger } from "../runtime/logger.ts";
import { attemptRow, auditRow, requestRow } from "./rows.ts";

/** Where each kind of event lands. */
const tableOf = { attempt: "attempts", request: "requests", audit: "audit_log" } as const;

type Row = { source_offset: number };

export interface RunningSink {
  stop(): Promise<void>;
}

const firstRetryMs = 250;
const maxRetryMs = 5_000;

/**
 * Lands events in ClickHouse exactly once: each batch is one insert, and
 * - an insert retried (ClickHouse down, a timeout after it did store) carries the same
 *   `insert_deduplication_token`, derived from the batch's partition and offset range, so
 *   ClickHouse stores it once — in the tables and in the rollups fed from them;
 * - a batch offered again after a sink died between storing and committing (Kafka redelivers
 *   from the last commit, not necessarily in the same batches) is checked against the offsets
 *   already stored for its partition, and only the rest is inserted.
 * While ClickHouse is down the batch is retried, with backoff, for as long as the partition stays
 * this sink's; nothing is committed meanwhile, so nothing is lost if the sink stops.
 */
export async function startAnalyticsSink(
  consumer: EventConsumer,
  client: ClickHouseClient,
  log: Logger,
): Promise<RunningSink> {
  await consumer.start(async (batch) => {
    let rows: Row[] | undefined;
    let token: string | undefined;
    for (let retryMs = firstRetryMs; ; retryMs = Math.min(retryMs * 2, maxRetryMs)) {
      try {
        // Worked out once: a retry must send the very same rows under its token.
        rows ??= await rowsToStore(client, batch);
        if (rows.length === 0) return;
        token ??= deduplicationToken(batch, rows);
        await client.insert({
          table: tableOf[batch.kind],
          values: rows,
          format: "JSONEachRow",
          // The token also keeps the rollups fed from the table (materialized views) exact.
          clickhouse_settings: {
            insert_deduplication_token: token,
            deduplicate_blocks_in_dependent_materialized_views: 1,
          },
        });
        return;
      } catch (error) {
        log.warn({ err: error, events: batch.events.length, retryMs }, "analytics insert failed; retrying");
        await new Promise((resolve) => setTimeout(resolve, retryMs));
        if (!(await batch.stillOwned())) throw new Error("the batch is no longer this sink's to store");
      }
    }
  });
  return { stop: () => consumer.close() };
}

/**
 * Names exactly the events an insert holds (so never the same for two different inserts): the
 * partition and the offset ranges sent — the whole batch, or what was missing of it. In process
 * there are no offsets; a random token still makes retries of one batch collapse.
 */
function deduplicationToken(batch: EventBatch, rows: Array<{ source_offset: number }>): string {
  if (!batch.source) return randomUUID();
  const ranges: string[] = [];
  let start = rows[0]?.source_offset ?? 0;
  let previous = start;
  for (const { source_offset: offset } of rows.slice(1)) {
    if (offset !== previous + 1) {
      ranges.push(`${start}-${previous}`);
      start = offset;
    }
    previous = offset;
  }
  ranges.push(`${start}-${previous}`);
  const offsets = ranges.join(",");
  const named = offsets.length <= 200 ? offsets : createHash("sha256").update(offsets).digest("hex");
  return `${batch.source.topic}/${batch.source.partition}/${named}`;
}

/** The batch's rows, less those an earlier owner of its partition already stored. */
async function rowsToStore(client: ClickHouseClient, batch: EventBatch): Promise<Row[]> {
  const source = batch.source;
  let stored = new Set<number>();
  if (source && batch.mayBeStored) {
    const result = await client.query({
      query: `SELECT source_offset FROM ${tableOf[batch.kind]}
              WHERE source_partition = {partition:UInt32} AND source_offset BETWEEN {first:UInt64} AND {last:UInt64}`,
      query_params: { partition: source.partition, first: source.firstOffset, last: source.lastOffset },
      format: "JSONEachRow",
    });
    stored = new Set(
      (await result.json<{ source_offset: number | string }>()).map((row) => Number(row.source_offset)),
    );
  }
  const fresh = ({ offset }: { offset: number }) => !stored.has(offset);
  const partition = source?.partition ?? 0;
  switch (batch.kind) {
    case "attempt":
      return batch.events.filter(fresh).map(({ offset, event }) => attemptRow(event, partition, offset));
    case "request":
      return batch.events.filter(fresh).map(({ offset, event }) => requestRow(event, partition, offset));
    case "audit":
      return batch.events.filter(fresh).map(({ offset, event }) => auditRow(event, partition, offset));
  }
}
