import { isFinal } from "../../batches/store.ts";
import type { Batch } from "./client.ts";

const barWidth = 20;

const count = (value: number) => value.toLocaleString("en-US");

/** A duration for people: `48s`, `4m 05s`, `2h 03m`. */
export function formatDuration(totalSeconds: number): string {
  const seconds = Math.max(0, Math.round(totalSeconds));
  if (seconds < 60) return `${seconds}s`;
  const pad = (value: number) => String(value).padStart(2, "0");
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${pad(seconds % 60)}s`;
  return `${Math.floor(seconds / 3600)}h ${pad(Math.floor(seconds / 60) % 60)}m`;
}

/** Lines done (answered, failed or never run); counted from request_counts if the server has no `progress`. */
export function doneOf(batch: Batch): number {
  return batch.progress?.done ?? batch.request_counts.completed + batch.request_counts.failed;
}

/** Lines that ran (answered or failed): the lines done less those cancelled. */
function ranOf(batch: Batch): number {
  return doneOf(batch) - (batch.progress?.cancelled ?? 0);
}

/** Lines that will never run: those cancelled so far, and once a batch is cancelled every line that did not run. */
function cancelledOf(batch: Batch): number {
  if (batch.status === "cancelled") return batch.request_counts.total - ranOf(batch);
  return batch.progress?.cancelled ?? 0;
}

const stopping = (batch: Batch) => batch.status === "cancelled" || batch.status === "cancelling";

/**
 * One line showing how far a batch is, e.g.
 * `batch_abc [########------------]  42% 4,210/10,000 · 3 failed · 120.5 lines/s · ETA 48s · in_progress`.
 * The bar fills with `#` for lines that ran and `x` for lines cancelled, so a cancelled batch shows
 * how much of it ran, not a full bar; percent and count are of lines that ran. Rate and ETA are
 * left out until the gateway has them and once a batch is being cancelled; failed and cancelled
 * lines until there are some.
 */
export function progressLine(batch: Batch): string {
  const { total, failed } = batch.request_counts;
  const cancelled = cancelledOf(batch);
  const ran = ranOf(batch);
  // Rounded down, so that 100% means every line is done; an empty batch is done once completed.
  const percent = total > 0 ? Math.floor((ran * 100) / total) : batch.status === "completed" ? 100 : 0;
  const filled = total > 0 ? Math.floor((ran * barWidth) / total) : Math.floor((percent * barWidth) / 100);
  const crossed = total > 0 ? Math.min(barWidth - filled, Math.ceil((cancelled * barWidth) / total)) : 0;
  const bar = `${"#".repeat(filled)}${"x".repeat(crossed)}${"-".repeat(barWidth - filled - crossed)}`;
  const parts = [`${batch.id} [${bar}] ${String(percent).padStart(3)}% ${count(ran)}/${count(total)}`];
  if (failed > 0) parts.push(`${count(failed)} failed`);
  if (cancelled > 0) parts.push(`${count(cancelled)} cancelled`);
  const rate = batch.progress?.lines_per_second ?? 0;
  if (rate > 0 && !stopping(batch))
    parts.push(
      `${rate.toLocaleString("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 })} lines/s`,
    );
  const eta = batch.progress?.eta_seconds ?? null;
  if (eta !== null && !isFinal(batch.status) && !stopping(batch)) parts.push(`ETA ${formatDuration(eta)}`);
  parts.push(batch.status);
  return parts.join(" · ");
}

/** Whether a batch moved since `previous` (the rate alone drifts with time, so it does not count). */
function moved(batch: Batch, previous: Batch | undefined): boolean {
  if (!previous) return true;
  return (
    batch.status !== previous.status ||
    doneOf(batch) !== doneOf(previous) ||
    batch.request_counts.total !== previous.request_counts.total ||
    batch.request_counts.failed !== previous.request_counts.failed
  );
}

export interface Screen {
  /** Whether the output is a terminal: then one line is redrawn in place. */
  tty: boolean;
  /** The terminal's width, if known: a redrawn line must not wrap, or `\r` cannot return over it. */
  columns?: number;
}

/**
 * What to write for a new poll of a batch. On a terminal: the progress line redrawn over the last
 * one. Elsewhere (CI logs, pipes): a line of its own, only when the batch moved, so logs stay short.
 */
export function progressUpdate(batch: Batch, previous: Batch | undefined, screen: Screen): string {
  const line = progressLine(batch);
  if (screen.tty) {
    // Short of the last column: a character there makes some terminals wrap before the next \r.
    const fitted = screen.columns ? line.slice(0, Math.max(1, screen.columns - 1)) : line;
    // \x1b[K clears what a longer previous line left to the right.
    return `\r${fitted}\x1b[K`;
  }
  return moved(batch, previous) ? `${line}\n` : "";
}

/**
 * The line a finished batch ends with, e.g.
 * `batch_abc completed in 1m 05s · 10,000 requests: 9,997 succeeded, 3 failed · output file-… · errors file-…`.
 */
export function summaryLine(batch: Batch): string {
  const { total, completed, failed } = batch.request_counts;
  const endedAt =
    batch.completed_at ?? batch.failed_at ?? batch.expired_at ?? batch.cancelled_at ?? batch.created_at;
  const notRun = total - completed - failed;
  const counts = [`${count(completed)} succeeded`, `${count(failed)} failed`];
  if (notRun > 0) counts.push(`${count(notRun)} not run`);
  const parts = [
    `${batch.id} ${batch.status} in ${formatDuration(endedAt - batch.created_at)}`,
    `${count(total)} requests: ${counts.join(", ")}`,
  ];
  if (batch.output_file_id) parts.push(`output ${batch.output_file_id}`);
  if (batch.error_file_id) parts.push(`errors ${batch.error_file_id}`);
  return parts.join(" · ");
}
