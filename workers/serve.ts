import type { Span } from "@opentelemetry/api";
import { injectContext } from "../runtime/tracing.ts";
import type { RequestEnvelope } from "../schemas/request-envelope.ts";
import { type AttemptContext, keepMsOf } from "./attempt-context.ts";
import { AttemptRecord, callId } from "./attempt-record.ts";
import { startCallSpan } from "./call-span.ts";
import { countAtDeployment } from "./count.ts";
import type { PlannedRequest } from "./plan-request.ts";
import type { Provider } from "./providers/provider.ts";
import { costSoFar, replyFor, toFailure } from "./reply-events.ts";
import type { ReplyStream } from "./reply-stream.ts";
import { type CallProgress, serveWithFailover } from "./routing/failover.ts";
import type { Candidate } from "./routing/plan.ts";

/** One claimed request's serving: its reply stream, its calls' records, its cancellation. */
interface Serving {
  envelope: RequestEnvelope;
  replies: ReplyStream;
  signal: AbortSignal;
  attempt: string;
  records: AttemptRecord[];
  context: AttemptContext;
  span: Span;
  /** The candidate whose first call the claim already traced, if any. */
  traced: Candidate | undefined;
}

/**
 * Serves a request from its route's deployments, in plan order, failing over between them (see
 * serveWithFailover); each call's record is added to `records`. Throws the failure that ends it.
 */
export async function serve(
  envelope: RequestEnvelope,
  planned: PlannedRequest,
  replies: ReplyStream,
  signal: AbortSignal,
  attempt: string,
  records: AttemptRecord[],
  context: AttemptContext,
  span: Span,
): Promise<void> {
  if ("failure" in planned) throw planned.failure;
  const { route, candidates, estimatedTokens } = planned.plan;
  const traced = planned.firstCall?.candidate;
  const serving = { envelope, replies, signal, attempt, records, context, span, traced };
  // A count takes a request from a deployment's quota, none of its tokens: the provider bills none.
  await serveWithFailover(
    candidates,
    context.failover,
    {
      route,
      deadlineMs: envelope.deadlineMs,
      estimatedTokens: envelope.countTokens ? 0 : estimatedTokens,
      batch: envelope.priority === "batch",
    },
    signal,
    envelope.countTokens
      ? (candidate, callSignal, progress) =>
          countAtDeployment(envelope, replies, context, span, candidate, callSignal, progress)
      : (candidate, callSignal, progress) => callDeployment(serving, candidate, callSignal, progress),
  );
}

/**
 * One call to one deployment: its trace kept first (a call is never billed without one; the claim
 * kept the first call's when it went to the planned deployment), then its parts streamed back as
 * reply events. A failure the loop may fail over from is recorded here, with
 * its real event replacing its trace; the one that ends the request, by runClaimed.
 */
async function callDeployment(
  serving: Serving,
  candidate: Candidate,
  callSignal: AbortSignal,
  progress: CallProgress,
): Promise<void> {
  const { envelope, replies, records, context } = serving;
  const { deployment } = candidate;
  const record = new AttemptRecord(
    envelope,
    callId(serving.attempt, records.length),
    context.workerId,
    candidate,
  );
  record.span = startCallSpan(context.tracer, serving.span, candidate);
  records.push(record);
  const started = { workerId: context.workerId, provider: deployment.provider, model: deployment.model };
  replies.announce(started);
  const traceMs = keepMsOf(envelope.deadlineMs);
  if (records.length > 1 || candidate !== serving.traced)
    await context.bus.claims.trace(
      envelope.id,
      record.attempt,
      record.lostEvent(context.lostCallOutputTokens),
      traceMs,
    );
  try {
    // Config validation guarantees every deployment's provider exists.
    const provider = context.providers.get(deployment.provider) as Provider;
    const call = {
      model: deployment.model,
      signal: callSignal,
      stream: envelope.stream,
      inboundApi: envelope.inboundApi,
      traceHeaders: record.span?.isRecording() ? injectContext(record.span) : undefined,
    };
    if (envelope.chat) {
      for await (const part of provider.chat(envelope.chat, call)) {
        callSignal.throwIfAborted();
        record.observe(part);
        if (record.contentSent) progress.contentSent();
        const event = replyFor(part);
        if (event?.kind === "usage") Object.assign(event, { costNanoUsd: costSoFar(records), started });
        if (event) replies.send(event);
      }
    } else if (envelope.embeddings) {
      const result = await provider.embed(envelope.embeddings, call);
      record.firstTokenAtMs = Date.now();
      progress.contentSent();
      for (const [index, vector] of result.vectors.entries())
        replies.send({ kind: "embedding", choice: index, embedding: vector });
      record.usage = result.usage;
      replies.send({ kind: "usage", usage: result.usage, costNanoUsd: costSoFar(records), started });
    }
    if (record.usage) progress.used(record.usage.inputTokens + record.usage.outputTokens);
    record.outcome = "completed";
  } catch (error) {
    const reason = callSignal.aborted ? callSignal.reason : error;
    if (!serving.signal.aborted) {
      record.fail(toFailure(reason));
      void context.bus.claims.trace(envelope.id, record.attempt, record.event(), traceMs).catch(() => {});
    }
    throw reason;
  } finally {
    record.ended();
  }
}
