import type { Completion } from "../calls/apis/completion.ts";
import type { Usage } from "../schemas/reply-event.ts";

/**
 * Where batch jobs live between processes and across restarts: the uploaded files, the batch
 * records and each line's result. Two implementations: local disk for one process (the embedded
 * default) and Redis for every process of a deployment (see README, "Batch jobs").
 */
export interface BatchStore {
  putFile(file: StoredFile, content: Buffer): Promise<void>;
  getFile(id: string): Promise<StoredFile | undefined>;
  fileContent(id: string): Promise<Buffer | undefined>;
  /** False if there was no such file. */
  deleteFile(id: string): Promise<boolean>;
  /** A key's files, newest first, those created before `after` (a file id) when given. */
  listFiles(keyId: string, page: Page & { purpose?: FilePurpose }): Promise<StoredFile[]>;

  createBatch(batch: BatchRecord): Promise<void>;
  getBatch(id: string): Promise<BatchRecord | undefined>;
  /** A key's batches, newest first, those created before `after` (a batch id) when given. */
  listBatches(keyId: string, page: Page): Promise<BatchRecord[]>;
  /** Every key's batches, newest first, those created before `after` when given: for the admin API only. */
  listAllBatches(page: Page): Promise<BatchRecord[]>;
  /**
   * Replaces the record with what `change` makes of it, atomically against concurrent updates
   * from any process (`change` may run more than once). `change` returning undefined leaves the
   * record as it is. Returns the stored record after the call (undefined: no such batch).
   */
  updateBatch(
    id: string,
    change: (batch: BatchRecord) => BatchRecord | undefined,
  ): Promise<BatchRecord | undefined>;
  /** Ids of the batches not yet in a final state (completed, failed, expired, cancelled). */
  activeBatches(): Promise<string[]>;

  /** Stores a line's result unless it has one already (the first result of a line wins): true if stored now. */
  putResult(batchId: string, line: number, result: LineResult): Promise<boolean>;
  /** Every stored result of a batch, by line. */
  results(batchId: string): Promise<Map<number, LineResult>>;
  counts(batchId: string): Promise<ResultCounts>;
  /** Drops a batch's line results, once its result files hold them (its record keeps the counts). */
  deleteResults(batchId: string): Promise<void>;

  /**
   * Takes or renews the lease on a batch for `owner` for `ttlMs`: true while `owner` holds it.
   * One coordinator at a time feeds and finalizes a batch; a dead one's lease lapses.
   */
  lease(batchId: string, owner: string, ttlMs: number): Promise<boolean>;
  close(): Promise<void>;
}

export interface Page {
  after?: string;
  limit: number;
}

export type FilePurpose = "batch" | "batch_output";

export interface StoredFile {
  /** `file-` and 24 random characters. */
  id: string;
  /** The gateway key that uploaded it (or made the batch whose output it is): only it may read it. */
  keyId: string;
  filename: string;
  purpose: FilePurpose;
  bytes: number;
  /** Unix seconds. */
  createdAt: number;
  /** Unix seconds; null: kept until deleted. */
  expiresAt: number | null;
}

export const finalStatuses = ["completed", "failed", "expired", "cancelled"] as const;
/** Now, in the Unix seconds of the APIs' timestamps. */
export const unixSeconds = (nowMs = Date.now()): number => Math.floor(nowMs / 1000);

export type BatchStatus =
  | "validating"
  | "in_progress"
  | "finalizing"
  | "cancelling"
  | (typeof finalStatuses)[number];

export function isFinal(status: BatchStatus): boolean {
  return (finalStatuses as readonly BatchStatus[]).includes(status);
}

export interface BatchError {
  code: string;
  message: string;
  /** The input line at fault (from 1, as editors count), if any. */
  line: number | null;
  param: string | null;
}

export interface BatchRecord {
  /** `batch_` and 24 random characters. */
  id: string;
  /** Which batch API made it: the shape of its objects and of its result lines. */
  api: "openai" | "anthropic";
  keyId: string;
  /** The key's name, if it has one (a routing condition and a tag, as for every request). */
  keyName: string | null;
  /** The key's team when the batch was made, if any (absent in records made before it was kept). */
  team?: string | null;
  tags: Record<string, string>;
  /** The inference endpoint every line calls, e.g. /v1/chat/completions. */
  endpoint: string;
  inputFileId: string;
  completionWindow: string;
  metadata: Record<string, string> | null;
  status: BatchStatus;
  /** Lines in the input file. */
  total: number;
  /** Lines published to the batch topic so far (a checkpoint: on restart, feeding resumes here). */
  fed: number;
  errors: BatchError[];
  outputFileId: string | null;
  errorFileId: string | null;
  /** Unix seconds of each step; null until it happens. */
  createdAt: number;
  expiresAt: number;
  inProgressAt: number | null;
  finalizingAt: number | null;
  completedAt: number | null;
  failedAt: number | null;
  expiredAt: number | null;
  cancellingAt: number | null;
  cancelledAt: number | null;
  /** The tokens of every line that was answered, summed once the batch is done. */
  usage?: Usage;
  /** How its lines ended, kept once the batch is done (its line results are then dropped). */
  counts?: ResultCounts;
}

/** How a line ended. */
export type LineOutcome = "succeeded" | "failed" | "cancelled";

export interface LineResult {
  outcome: LineOutcome;
  /** The request id the line ran as (also in its analytics events). */
  requestId: string;
  /** Unix seconds, when it was answered. */
  answeredAt: number;
  /** The answer, for a line that succeeded. */
  completion?: Completion;
  /** Why it failed, for a line that failed. */
  error?: { code: string; message: string; status: number; param: string | null };
}

export type ResultCounts = Record<LineOutcome, number>;

/** Lines with a result, however they ended. */
export const doneCount = (counts: ResultCounts): number =>
  counts.succeeded + counts.failed + counts.cancelled;

export function noCounts(): ResultCounts {
  return { succeeded: 0, failed: 0, cancelled: 0 };
}
