import { type Span, SpanKind } from "@opentelemetry/api";
import type { Logger } from "../runtime/logger.ts";
import { extractContext } from "../runtime/tracing.ts";
import { GatewayError } from "../schemas/errors.ts";
import type { RequestEnvelope } from "../schemas/request-envelope.ts";
import { type AttemptContext, Cancelled } from "./attempt-context.ts";
import { AttemptRecord, callId } from "./attempt-record.ts";
import { BatchLineReplies } from "./batch-line.ts";
import { claimHeartbeats } from "./claim.ts";
import type { PlannedRequest } from "./plan-request.ts";
import { toFailure } from "./reply-events.ts";
import { ReplyStream } from "./reply-stream.ts";
import { serve } from "./serve.ts";

/** A claimed request once served: its calls, the reply that ends it for its client, and where replies went. */
export interface Ran {
  records: AttemptRecord[];
  /** Completed or failed; undefined when the client went away (nobody listens). */
  final: Parameters<ReplyStream["send"]>[0] | undefined;
  replies: ReplyStream;
  /** A batch line's replies, gathered for its coordinator instead of streamed to a client. */
  batchReplies: BatchLineReplies | undefined;
  span: Span;
}

/**
 * Serves a claimed request within its deadline, reachable by cancels and shutdown meanwhile, its
 * claim renewed with each heartbeat. A failure ends up in its last call's record and as the
 * reply that ends it; nothing here throws.
 */
export async function runClaimed(
  envelope: RequestEnvelope,
  planned: PlannedRequest,
  attempt: string,
  context: AttemptContext,
  log: Logger,
): Promise<Ran> {
  // The ingress's clock against this one: machines a little apart must not make a negative wait.
  const waitedMs = Math.max(0, Date.now() - envelope.receivedAtMs);
  context.metrics.queueWait.observe({ priority: envelope.priority }, waitedMs / 1000);
  const records: AttemptRecord[] = [];
  // The ingress's span crossed the bus in the envelope: this work joins the caller's trace.
  const span = context.tracer.startSpan(
    "gateway.worker",
    {
      kind: SpanKind.CONSUMER,
      attributes: { "gateway.request_id": envelope.id, "gateway.priority": envelope.priority },
    },
    extractContext(envelope.traceContext),
  );
  const abort = new AbortController();
  context.running.set(envelope.id, abort);
  const deadline = setTimeout(
    () => abort.abort(new GatewayError("timeout", "the request took longer than its deadline")),
    envelope.deadlineMs - Date.now(),
  );
  const batchReplies = envelope.batch ? new BatchLineReplies() : undefined;
  const claimTtlMs = context.heartbeatMs * claimHeartbeats;
  const replies = new ReplyStream(
    batchReplies ?? context.bus.replies,
    envelope.replyTo,
    envelope.id,
    attempt,
    context.heartbeatMs,
    () => {
      void context.bus.claims.renew(envelope.id, attempt, claimTtlMs).catch(() => {});
    },
  );
  const ran: Ran = { records, final: { kind: "completed" }, replies, batchReplies, span };
  try {
    await serve(envelope, planned, replies, abort.signal, attempt, records, context, span);
  } catch (error) {
    ran.final = failedAs(
      abort.signal.aborted ? abort.signal.reason : error,
      envelope,
      attempt,
      records,
      context,
      log,
    );
  } finally {
    clearTimeout(deadline);
    context.running.delete(envelope.id);
  }
  return ran;
}

/** Records why a request failed on its last call (or on a record of its own if it made none) and says what its client hears. */
function failedAs(
  reason: unknown,
  envelope: RequestEnvelope,
  attempt: string,
  records: AttemptRecord[],
  context: AttemptContext,
  log: Logger,
): Ran["final"] {
  const failure = reason instanceof Cancelled ? undefined : toFailure(reason);
  if (failure?.code === "internal") log.error({ err: reason }, "request failed inside the worker");
  // A count makes no call record (workers/count.ts); a request that failed before any call (no
  // route, every breaker open) is recorded too.
  if (!envelope.countTokens) {
    if (records.length === 0)
      records.push(new AttemptRecord(envelope, callId(attempt, 0), context.workerId, undefined));
    const last = records.at(-1) as AttemptRecord;
    if (failure) last.fail(failure);
    else last.outcome = "cancelled";
  }
  return failure && { kind: "failed", failure };
}
