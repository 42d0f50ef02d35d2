import { lineRequestId } from "../line-envelope.ts";
import { answerBody, type BatchFormat, failureBody } from "./format.ts";

const unexecuted = {
  expired: {
    code: "batch_expired",
    message: "This request could not be executed before the completion window expired.",
  },
  cancelled: {
    code: "batch_cancelled",
    message: "This request was not executed because the batch was cancelled.",
  },
};

/** OpenAI's Batch API: output and error files of `{id, custom_id, response, error}` lines. */
export const openAIBatchFormat: BatchFormat = {
  resultLine(batch, line, result, ending) {
    const requestId = result?.requestId ?? lineRequestId(batch, line.index);
    const identity = { id: `batch_req_${requestId.replaceAll("-", "")}`, custom_id: line.customId };
    if (!result || result.outcome === "cancelled") {
      const error = ending === "expired" ? unexecuted.expired : unexecuted.cancelled;
      return { file: "error", json: { ...identity, response: null, error } };
    }
    if (result.outcome === "failed" && result.error) {
      const body = failureBody(result.error, "openai");
      return {
        file: "error",
        json: {
          ...identity,
          response: { status_code: result.error.status, request_id: result.requestId, body },
          error: null,
        },
      };
    }
    const body = answerBody(line, result);
    return {
      file: "output",
      json: { ...identity, response: { status_code: 200, request_id: result.requestId, body }, error: null },
    };
  },

  batchObject(batch, counts, progress) {
    return {
      id: batch.id,
      object: "batch",
      endpoint: batch.endpoint,
      errors: batch.errors.length > 0 ? { object: "list", data: batch.errors } : null,
      input_file_id: batch.inputFileId,
      completion_window: batch.completionWindow,
      status: batch.status,
      output_file_id: batch.outputFileId,
      error_file_id: batch.errorFileId,
      created_at: batch.createdAt,
      in_progress_at: batch.inProgressAt,
      expires_at: batch.expiresAt,
      finalizing_at: batch.finalizingAt,
      completed_at: batch.completedAt,
      failed_at: batch.failedAt,
      expired_at: batch.expiredAt,
      cancelling_at: batch.cancellingAt,
      cancelled_at: batch.cancelledAt,
      request_counts: { total: batch.total, completed: counts.succeeded, failed: counts.failed },
      usage: batch.usage && {
        input_tokens: batch.usage.inputTokens,
        input_tokens_details: { cached_tokens: batch.usage.cachedInputTokens },
        output_tokens: batch.usage.outputTokens,
        output_tokens_details: { reasoning_tokens: batch.usage.reasoningTokens },
        total_tokens: batch.usage.inputTokens + batch.usage.outputTokens,
      },
      metadata: batch.metadata,
      progress: {
        done: progress.done,
        cancelled: counts.cancelled,
        lines_per_second: progress.linesPerSecond,
        eta_seconds: progress.etaSeconds,
      },
    };
  },
};
