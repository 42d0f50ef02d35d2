import { describe, expect, it } from "vitest";
import type { Batch } from "../../bin/batch/client.ts";
import { formatDuration, progressLine, progressUpdate, summaryLine } from "../../bin/batch/progress.ts";

/** A batch object as the gateway answers it, 10,000 lines, 4,210 done, 3 of them failed. */
function batch(overrides: Partial<Batch> = {}): Batch {
  return {
    id: "batch_abc",
    endpoint: "/v1/chat/completions",
    status: "in_progress",
    input_file_id: "file-in",
    output_file_id: null,
    error_file_id: null,
    errors: null,
    created_at: 1_700_000_000,
    in_progress_at: 1_700_000_000,
    completed_at: null,
    failed_at: null,
    expired_at: null,
    cancelled_at: null,
    request_counts: { total: 10_000, completed: 4_207, failed: 3 },
    progress: { done: 4_210, cancelled: 0, lines_per_second: 120.54, eta_seconds: 48 },
    ...overrides,
  };
}

describe("the progress line", () => {
  it("shows bar, percent, counts, failures, rate, ETA and status", () => {
    expect(progressLine(batch())).toBe(
      "batch_abc [########------------]  42% 4,210/10,000 · 3 failed · 120.5 lines/s · ETA 48s · in_progress",
    );
  });

  it("rounds the percent down, so 100% means every line is done", () => {
    const almost = batch({ progress: { done: 9_999, cancelled: 0, lines_per_second: 100, eta_seconds: 1 } });
    expect(progressLine(almost)).toContain("[###################-]  99% 9,999/10,000");
    const done = batch({
      status: "completed",
      request_counts: { total: 10_000, completed: 10_000, failed: 0 },
      progress: { done: 10_000, cancelled: 0, lines_per_second: 100, eta_seconds: null },
    });
    expect(progressLine(done)).toBe(
      "batch_abc [####################] 100% 10,000/10,000 · 100.0 lines/s · completed",
    );
  });

  it("formats the ETA in seconds, minutes or hours", () => {
    expect(formatDuration(0)).toBe("0s");
    expect(formatDuration(59.4)).toBe("59s");
    expect(formatDuration(125)).toBe("2m 05s");
    expect(formatDuration(3725)).toBe("1h 02m");
    expect(formatDuration(26 * 3600 + 60)).toBe("26h 01m");
    const long = batch({ progress: { done: 10, cancelled: 0, lines_per_second: 0.1, eta_seconds: 99_900 } });
    expect(progressLine(long)).toContain("· 0.1 lines/s · ETA 27h 45m · in_progress");
  });

  it("leaves out the ETA and the rate before the gateway has them", () => {
    const starting = batch({
      request_counts: { total: 50, completed: 0, failed: 0 },
      progress: { done: 0, cancelled: 0, lines_per_second: 0, eta_seconds: null },
    });
    expect(progressLine(starting)).toBe("batch_abc [--------------------]   0% 0/50 · in_progress");
  });

  it("shows an empty batch as not started until it completes", () => {
    const empty = { total: 0, completed: 0, failed: 0 };
    const progress = { done: 0, cancelled: 0, lines_per_second: 0, eta_seconds: null };
    expect(progressLine(batch({ request_counts: empty, progress }))).toContain(
      "[--------------------]   0% 0/0",
    );
    expect(progressLine(batch({ request_counts: empty, progress, status: "completed" }))).toContain(
      "[####################] 100% 0/0",
    );
  });

  it("counts from request_counts when the server has no progress extension", () => {
    expect(progressLine(batch({ progress: undefined }))).toBe(
      "batch_abc [########------------]  42% 4,210/10,000 · 3 failed · in_progress",
    );
  });

  it("draws a cancelled batch as the lines that ran and those cancelled, not as done", () => {
    const cancelled = batch({
      status: "cancelled",
      request_counts: { total: 100, completed: 30, failed: 0 },
      progress: { done: 100, cancelled: 70, lines_per_second: 20, eta_seconds: null },
    });
    expect(progressLine(cancelled)).toBe(
      "batch_abc [######xxxxxxxxxxxxxx]  30% 30/100 · 70 cancelled · cancelled",
    );
    // Without the gateway's extension, every line that did not run is cancelled once the batch is.
    expect(progressLine({ ...cancelled, progress: undefined })).toBe(
      "batch_abc [######xxxxxxxxxxxxxx]  30% 30/100 · 70 cancelled · cancelled",
    );
  });

  it("draws a batch being cancelled with the lines still to stop, and no rate or ETA", () => {
    const cancelling = batch({
      status: "cancelling",
      request_counts: { total: 100, completed: 40, failed: 2 },
      progress: { done: 62, cancelled: 20, lines_per_second: 20, eta_seconds: 3 },
    });
    expect(progressLine(cancelling)).toBe(
      "batch_abc [########xxxx--------]  42% 42/100 · 2 failed · 20 cancelled · cancelling",
    );
  });
});

describe("progress updates", () => {
  it("on a terminal, redraws one line in place, cut short of the terminal's last column", () => {
    expect(progressUpdate(batch(), undefined, { tty: true })).toBe(`\r${progressLine(batch())}\x1b[K`);
    expect(progressUpdate(batch(), batch(), { tty: true, columns: 21 })).toBe("\rbatch_abc [########-\x1b[K");
  });

  it("elsewhere, writes a line of its own only when the batch moved", () => {
    const first = batch();
    expect(progressUpdate(first, undefined, { tty: false })).toBe(`${progressLine(first)}\n`);
    // The rate drifts with time alone: not a change worth a log line.
    const drifted = batch({
      progress: { done: 4_210, cancelled: 0, lines_per_second: 119, eta_seconds: 49 },
    });
    expect(progressUpdate(drifted, first, { tty: false })).toBe("");
    const moved = batch({ progress: { done: 4_300, cancelled: 0, lines_per_second: 121, eta_seconds: 47 } });
    expect(progressUpdate(moved, drifted, { tty: false })).toBe(`${progressLine(moved)}\n`);
    const finalizing = batch({ status: "finalizing" });
    expect(progressUpdate(finalizing, first, { tty: false })).toContain("· finalizing\n");
  });
});

describe("the summary line", () => {
  it("gives status, counts, elapsed time and the result files", () => {
    const completed = batch({
      status: "completed",
      completed_at: 1_700_000_065,
      request_counts: { total: 10_000, completed: 9_997, failed: 3 },
      output_file_id: "file-out",
      error_file_id: "file-err",
    });
    expect(summaryLine(completed)).toBe(
      "batch_abc completed in 1m 05s · 10,000 requests: 9,997 succeeded, 3 failed · output file-out · errors file-err",
    );
  });

  it("counts the lines that never ran", () => {
    const expired = batch({
      status: "expired",
      expired_at: 1_700_000_003,
      request_counts: { total: 60, completed: 20, failed: 0 },
      output_file_id: "file-out",
      error_file_id: "file-err",
    });
    expect(summaryLine(expired)).toBe(
      "batch_abc expired in 3s · 60 requests: 20 succeeded, 0 failed, 40 not run · output file-out · errors file-err",
    );
  });
});
