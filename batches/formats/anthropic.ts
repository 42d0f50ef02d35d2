import { type BatchRecord, isFinal } from "../store.ts";
import { answerBody, type BatchFormat, failureBody } from "./format.ts";

/** Anthropic's timestamps are RFC 3339 strings. */
const iso = (seconds: number | null) => (seconds === null ? null : new Date(seconds * 1000).toISOString());

/** Anthropic's three processing states over the gateway's batch states. */
function processingStatus(batch: BatchRecord): "in_progress" | "canceling" | "ended" {
  if (batch.status === "cancelling") return "canceling";
  if (isFinal(batch.status)) return "ended";
  return "in_progress";
}

/** Anthropic's Message Batches: one results file of `{custom_id, result: {type, …}}` lines. */
export const anthropicBatchFormat: BatchFormat = {
  resultLine(_batch, line, result, ending) {
    const customId = line.customId;
    if (!result)
      return {
        file: "output",
        json: { custom_id: customId, result: { type: ending === "expired" ? "expired" : "canceled" } },
      };
    if (result.outcome === "cancelled")
      return { file: "output", json: { custom_id: customId, result: { type: "canceled" } } };
    if (result.outcome === "failed" && result.error) {
      const error = failureBody(result.error, "anthropic");
      return { file: "output", json: { custom_id: customId, result: { type: "errored", error } } };
    }
    const message = answerBody(line, result);
    return { file: "output", json: { custom_id: customId, result: { type: "succeeded", message } } };
  },

  batchObject(batch, counts, progress, baseUrl) {
    const status = processingStatus(batch);
    // Lines without a result: still to run, or never run once the batch has ended.
    const left = batch.total - progress.done;
    const ended = status === "ended";
    return {
      id: batch.id,
      type: "message_batch",
      processing_status: status,
      request_counts: {
        processing: ended ? 0 : left,
        succeeded: counts.succeeded,
        errored: counts.failed,
        canceled: counts.cancelled + (ended && batch.status === "cancelled" ? left : 0),
        expired: ended && batch.status === "expired" ? left : 0,
      },
      created_at: iso(batch.createdAt),
      expires_at: iso(batch.expiresAt),
      cancel_initiated_at: iso(batch.cancellingAt),
      ended_at: iso(batch.completedAt ?? batch.expiredAt ?? batch.cancelledAt ?? batch.failedAt),
      archived_at: null,
      results_url: ended && batch.outputFileId ? `${baseUrl}/v1/messages/batches/${batch.id}/results` : null,
      progress: {
        done: progress.done,
        lines_per_second: progress.linesPerSecond,
        eta_seconds: progress.etaSeconds,
      },
    };
  },
};
