import { Counter, Gauge, type Registry } from "prom-client";

/** What a batch coordinator did, for /metrics: lines published and stored, batches it runs. */
export interface BatchMetrics {
  readonly linesPublished: Counter;
  readonly linesStored: Counter<"outcome">;
  readonly batchesFinished: Counter<"status">;
  readonly batchesOwned: Gauge;
}

export function createBatchMetrics(registry: Registry): BatchMetrics {
  const registers = [registry];
  return {
    linesPublished: new Counter({
      name: "gateway_batch_lines_published_total",
      help: "Batch lines this coordinator published to the batch topic (a line published again after a restart counts again).",
      registers,
    }),
    linesStored: new Counter({
      name: "gateway_batch_lines_stored_total",
      help: "Batch line results this coordinator stored, by outcome (a result delivered twice is stored once).",
      labelNames: ["outcome"],
      registers,
    }),
    batchesFinished: new Counter({
      name: "gateway_batches_finished_total",
      help: "Batches this coordinator finalized, by how they ended.",
      labelNames: ["status"],
      registers,
    }),
    batchesOwned: new Gauge({
      name: "gateway_batches_owned",
      help: "Unfinished batches whose lease this coordinator holds (it feeds, expires and finalizes them).",
      registers,
    }),
  };
}
