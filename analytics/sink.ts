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
 * Lands events in ClickHouse exactly once, one insert per table for the batches handed over
 * together (Kafka: every partition of one fetch), since each insert costs ClickHouse a new part
 * and its merges whatever its size:
 * - an insert retried (ClickHouse down, a timeout after it did store) carries the same
 *   `insert_deduplication_token`, derived from the partitions and offset ranges it holds, so
 *   ClickHouse stores it once — in the tables and in the rollups fed from them;
 * - a batch offered again after a sink died between storing and committing (Kafka redelivers
 *   from the last commit, not necessarily in the same batches) is checked against the offsets
 *   already stored for its partition, and only the rest is inserted.
 * An insert of several batches is tried once; if it fails, each batch is stored on its own, after
 * that check (the failed insert may have stored it). While ClickHouse is down a batch is retried,
 * with backoff, for as long as its partition stays this sink's; nothing is committed meanwhile, so
 * nothing is lost if the sink stops.
 */
export async function startAnalyticsSink(
  consumer: EventConsumer,
  client: ClickHouseClient,
  log: Logger,
): Promise<RunningSink> {
  const storeAlone = (batch: EventBatch) => storeRetrying(client, batch, log);
  const storeTogether = async (batches: EventBatch[]) => {
    const rows = await Promise.all(batches.map((batch) => rowsToStore(client, batch)));
    const sent = batches.filter((_, index) => (rows[index] as Row[]).length > 0);
    if (sent.length === 0) return;
    const kind = (batches[0] as EventBatch).kind;
    await insert(
      client,
      kind,
      rows.flat(),
      deduplicationToken(
        sent,
        rows.filter((some) => some.length > 0),
      ),
    );
  };
  await consumer.start(gatheredPerTurn(storeAlone, storeTogether, log));
  return { stop: () => consumer.close() };
}

type Store = (batch: EventBatch) => Promise<void>;

/**
 * Gathers the batches of each kind handed over within one turn of the event loop and stores them
 * with one insert; each batch's promise settles with its own outcome.
 */
function gatheredPerTurn(
  storeAlone: Store,
  storeTogether: (batches: EventBatch[]) => Promise<void>,
  log: Logger,
): Store {
  type Waiting = { batch: EventBatch; resolve: () => void; reject: (error: unknown) => void };
  const waiting = new Map<EventBatch["kind"], Waiting[]>();
  const flush = async (kind: EventBatch["kind"]) => {
    const gathered = waiting.get(kind) ?? [];
    waiting.delete(kind);
    if (gathered.length > 1) {
      try {
        await storeTogether(gathered.map(({ batch }) => batch));
        for (const { resolve } of gathered) resolve();
        return;
      } catch (error) {
        log.warn(
          { err: error, batches: gathered.length },
          "analytics insert failed; storing each batch alone",
        );
      }
    }
    for (const { batch, resolve, reject } of gathered)
      storeAlone(gathered.length > 1 ? { ...batch, mayBeStored: true } : batch).then(resolve, reject);
  };
  return (batch) =>
    new Promise((resolve, reject) => {
      const gathered = waiting.get(batch.kind);
      if (gathered) return void gathered.push({ batch, resolve, reject });
      waiting.set(batch.kind, [{ batch, resolve, reject }]);
      setImmediate(() => void flush(batch.kind));
    });
}

/** Stores one batch, retrying with backoff while it stays this sink's. */
async function storeRetrying(client: ClickHouseClient, batch: EventBatch, log: Logger): Promise<void> {
  let rows: Row[] | undefined;
  let token: string | undefined;
  for (let retryMs = firstRetryMs; ; retryMs = Math.min(retryMs * 2, maxRetryMs)) {
    try {
      // Worked out once: a retry must send the very same rows under its token.
      rows ??= await rowsToStore(client, batch);
      if (rows.length === 0) return;
      token ??= deduplicationToken([batch], [rows]);
      await insert(client, batch.kind, rows, token);
      return;
    } catch (error) {
      log.warn({ err: error, events: batch.events.length, retryMs }, "analytics insert failed; retrying");
      await new Promise((resolve) => setTimeout(resolve, retryMs));
      if (!(await batch.stillOwned())) throw new Error("the batch is no longer this sink's to store");
    }
  }
}

function insert(client: ClickHouseClient, kind: EventBatch["kind"], rows: Row[], token: string) {
  return client.insert({
    table: tableOf[kind],
    values: rows,
    format: "JSONEachRow",
    // The token also keeps the rollups fed from the table (materialized views) exact.
    clickhouse_settings: {
      insert_deduplication_token: token,
      deduplicate_blocks_in_dependent_materialized_views: 1,
    },
  });
}

/**
 * Names exactly the events an insert holds (so never the same for two different inserts): for
 * each batch, its partition and the offset ranges sent — the whole batch, or what was missing of
 * it. In process there are no offsets; a random token still makes retries of one insert collapse.
 */
function deduplicationToken(batches: EventBatch[], rows: Row[][]): string {
  const named = batches.map((batch, index) => {
    const source = batch.source;
    return source ? `${source.topic}/${source.partition}/${offsetRanges(rows[index] as Row[])}` : undefined;
  });
  if (named.some((name) => name === undefined)) return randomUUID();
  const token = named.sort().join(";");
  return token.length <= 200 ? token : createHash("sha256").update(token).digest("hex");
}

/** "3-7,9-9": the offsets of rows sorted by offset, as inclusive ranges. */
function offsetRanges(rows: Row[]): string {
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
  return ranges.join(",");
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
