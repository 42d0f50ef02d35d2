import { randomUUID } from "node:crypto";
import { type Span, SpanKind, type Tracer } from "@opentelemetry/api";
import type { Bus, Claim, ClaimRequest, Delivery } from "../bus/contracts.ts";
import type { RouteTable } from "../config/routes.ts";
import type { Logger } from "../runtime/logger.ts";
import { extractContext, injectContext } from "../runtime/tracing.ts";
import type { AttemptEventInput } from "../schemas/attempt-event.ts";
import { GatewayError } from "../schemas/errors.ts";
import type { Failure } from "../schemas/reply-event.ts";
import type { RequestEnvelope } from "../schemas/request-envelope.ts";
import { estimatedPromptTokens, expectedOutputTokens, promptJsonOf } from "../schemas/request-size.ts";
import { AttemptRecord } from "./attempt-record.ts";
import { BatchLineReplies, cancelledLine } from "./batch-line.ts";
import { endCallSpan, startCallSpan } from "./call-span.ts";
import { countCalls, type WorkerMetrics } from "./metrics.ts";
import type { ChatPart, Provider } from "./providers/provider.ts";
import { ReplyStream } from "./reply-stream.ts";
import { promptAffinityKey } from "./routing/affinity.ts";
import { type FailoverServices, serveWithFailover } from "./routing/failover.ts";
import { planCandidates } from "./routing/plan.ts";

export interface AttemptContext {
  workerId: string;
  bus: Bus;
  routes: RouteTable;
  providers: Map<string, Provider>;
  failover: FailoverServices;
  heartbeatMs: number;
  metrics: WorkerMetrics;
  tracer: Tracer;
  log: Logger;
  /** Abort controllers of running attempts by request id, so cancels and shutdown can reach them. */
  running: Map<string, AbortController>;
  /** The output a call lost with its worker is billed for when its request names no max_tokens. */
  lostCallOutputTokens: number;
}

/** The reason an attempt is aborted when its client went away. */
export class Cancelled extends Error {}

/** A claim lives this many heartbeats: a dead worker's claims lapse well before Kafka redelivers. */
const claimHeartbeats = 3;
/** How long a finished request is remembered, so a late redelivery of it is skipped. */
const finishedMemoryMs = 60 * 60_000;

/**
 * Runs one delivered request: skip it if it is stale, cancelled, finished or claimed by a live
 * worker (recording first the calls a dead runner left behind); otherwise serve it from its
 * route's deployments (failing over between them), stream the reply events back and record every
 * call it made. The request is marked finished before its client hears the end of it, and its
 * calls' events travel with that mark until they are durable, so a crash at any point neither
 * runs an answered request again nor loses the record of a call a provider billed.
 */
export async function runAttempt(delivery: Delivery, context: AttemptContext): Promise<void> {
  const { bus, log } = context;
  const envelope = delivery.envelope;
  const requestLog = log.child({ requestId: envelope.id });
  let durable = true;
  try {
    const attempt = `${context.workerId}:${randomUUID().slice(0, 8)}`;
    const claimTtlMs = context.heartbeatMs * claimHeartbeats;
    const batch = envelope.batch ?? undefined;
    const { result, orphans } = await claimPatiently(
      delivery,
      { requestId: envelope.id, attempt, ttlMs: claimTtlMs, batchId: batch?.batchId },
      context,
      requestLog,
    );
    if (orphans.length > 0) {
      requestLog.warn({ calls: orphans.length }, "recording the calls of a runner that is gone");
      durable = await record(orphans, context, requestLog);
    }
    if (result !== "claimed") {
      context.metrics.refused.inc({ reason: result });
      // A redelivery of a request whose client already has its answer, or was told it failed.
      if (result === "finished" || result === "cancelled")
        requestLog.info({ reason: result }, "delivery refused");
    }
    if (result === "cancelled" && batch) {
      // Its coordinator counts every line, so a line it will never run still reports.
      await bus.batchResults.publish({ envelope, attempt, events: cancelledLine(envelope, attempt) });
    }
    if (result !== "claimed") return;
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
    const batchReplies = batch && new BatchLineReplies();
    const replies = new ReplyStream(
      batchReplies ?? bus.replies,
      envelope.replyTo,
      envelope.id,
      attempt,
      context.heartbeatMs,
      () => {
        void bus.claims.renew(envelope.id, attempt, claimTtlMs).catch(() => {});
      },
    );
    let final: FinalReply | undefined = { kind: "completed" };
    try {
      await serve(envelope, replies, abort.signal, attempt, records, context, span);
    } catch (error) {
      const reason = abort.signal.aborted ? abort.signal.reason : error;
      // A request that failed before any call (no route, every breaker open) is recorded too.
      if (records.length === 0)
        records.push(new AttemptRecord(envelope, `${attempt}.0`, context.workerId, undefined));
      const last = records.at(-1) as AttemptRecord;
      if (reason instanceof Cancelled) {
        last.outcome = "cancelled";
        final = undefined; // nobody is listening
      } else {
        const failure = toFailure(reason);
        if (failure.code === "internal")
          requestLog.error({ err: reason }, "request failed inside the worker");
        final = { kind: "failed", failure };
        last.fail(failure);
      }
    } finally {
      clearTimeout(deadline);
      context.running.delete(envelope.id);
    }
    const events = records.map((record) => record.event());
    const finishing = { keepMs: Math.max(finishedMemoryMs, envelope.deadlineMs - Date.now()), events };
    const undelivered = (error: Error) => requestLog.warn({ err: error }, "a reply could not be delivered");
    if (batchReplies) {
      if (final) replies.send(final);
      await replies.close();
      // Published before the line is marked finished: a crash in between runs it again rather than losing it.
      await bus.batchResults.publish({ envelope, attempt, events: batchReplies.events });
      await bus.claims.finish(envelope.id, finishing);
    } else if (final) {
      // The last reply marks the request finished in the same step, the calls' events kept beside
      // the mark until they are durable on the bus.
      replies.send(final, finishing);
      await replies.close().catch(undelivered);
    } else {
      await Promise.all([bus.claims.finish(envelope.id, finishing), replies.close().catch(undelivered)]);
    }
    countCalls(context.metrics, events);
    records.forEach((record, index) => {
      if (record.span && events[index]) endCallSpan(record.span, events[index]);
    });
    span.end();
    durable = (await record(events, context, requestLog)) && durable;
    if (durable) await bus.claims.recorded(envelope.id);
  } catch (error) {
    requestLog.error({ err: error }, "request could not be run");
  } finally {
    // Events that could not be made durable are kept with the claim: leaving the request
    // uncommitted lets whoever gets it next record them.
    if (durable) delivery.settle();
  }
}

/** While Redis cannot be reached, a claim is asked again this often at most. */
const claimRetryMaxMs = 2000;

/**
 * Claims the request, asking again while Redis cannot be reached: the requests delivered during
 * an outage of seconds run once it is over, instead of being dropped. It gives up once the
 * request's deadline has passed, or once the bus has given the request to another worker.
 */
async function claimPatiently(
  delivery: Delivery,
  request: Omit<ClaimRequest, "recoverOnly">,
  context: AttemptContext,
  log: Logger,
): Promise<Claim> {
  const { deadlineMs } = delivery.envelope;
  for (let waitMs = 100; ; waitMs = Math.min(waitMs * 2, claimRetryMaxMs)) {
    try {
      return await context.bus.claims.claim({ ...request, recoverOnly: Date.now() > deadlineMs });
    } catch (error) {
      if (Date.now() > deadlineMs || !delivery.stillOwned()) throw error;
      log.warn({ err: error, retryMs: waitMs }, "cannot claim the request yet; asking again");
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }
}

/** How a request ends for its client: completed or failed (a cancelled one has nobody listening). */
type FinalReply = Parameters<ReplyStream["send"]>[0];

/** Publishes attempt events and waits until the bus holds them; false if any could not be. */
async function record(events: AttemptEventInput[], context: AttemptContext, log: Logger): Promise<boolean> {
  const published = await Promise.allSettled(events.map((event) => context.bus.events.publishAttempt(event)));
  const lost = published.filter((outcome) => outcome.status === "rejected");
  if (lost.length === 0) return true;
  log.error(
    { err: (lost[0] as PromiseRejectedResult).reason, events: lost.length },
    "attempt events not recorded yet",
  );
  return false;
}

async function serve(
  envelope: RequestEnvelope,
  replies: ReplyStream,
  signal: AbortSignal,
  attempt: string,
  records: AttemptRecord[],
  context: AttemptContext,
  span: Span,
): Promise<void> {
  const request = envelope.chat ?? envelope.embeddings;
  if (!request)
    throw new GatewayError("invalid_request", "the request carries neither a chat nor an embeddings call");
  // Estimated, enough to match conditions, compare prices and hold quota until the provider says.
  const facts = {
    keyName: envelope.caller.tags.key,
    tags: envelope.caller.tags,
    promptTokens: estimatedPromptTokens(envelope),
    tools: (envelope.chat?.tools.length ?? 0) > 0,
  };
  const route = context.routes.resolve(request.model, facts);
  if (!route)
    throw new GatewayError(
      "not_found",
      `no route of ${request.model} serves this request (see its \`when\`)`,
    );
  const outputTokens = expectedOutputTokens(envelope);
  const candidates = planCandidates(route, context.routes, {
    facts,
    outputTokens,
    hints: envelope.routing,
    affinityKey: route.promptCacheAffinity
      ? promptAffinityKey(envelope.caller.keyId, promptJsonOf(envelope), context.failover.affinityMinTokens)
      : undefined,
    latency: context.failover.latency,
  });
  const promptTokens = facts.promptTokens;
  // A trace outlives the request's deadline, by when its runner has surely given up on the call.
  const traceMs = Math.max(finishedMemoryMs, envelope.deadlineMs - Date.now());

  await serveWithFailover(
    candidates,
    context.failover,
    {
      deadlineMs: envelope.deadlineMs,
      estimatedTokens: promptTokens + outputTokens,
      batch: envelope.priority === "batch",
    },
    signal,
    async (candidate, callSignal, progress) => {
      const { deployment } = candidate;
      // Config validation guarantees every deployment's provider exists.
      const provider = context.providers.get(deployment.provider) as Provider;
      const record = new AttemptRecord(envelope, `${attempt}.${records.length}`, context.workerId, candidate);
      record.span = startCallSpan(context.tracer, span, candidate);
      records.push(record);
      const started = { workerId: context.workerId, provider: deployment.provider, model: deployment.model };
      replies.announce(started);
      // Before the provider hears of it: a call must never be billed without a trace.
      await context.bus.claims.trace(
        envelope.id,
        record.attempt,
        record.lostEvent(context.lostCallOutputTokens),
        traceMs,
      );
      const call = {
        model: deployment.model,
        signal: callSignal,
        stream: envelope.stream,
        inboundApi: envelope.inboundApi,
        traceHeaders: record.span?.isRecording() ? injectContext(record.span) : undefined,
      };
      try {
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
          for (const [index, vector] of result.vectors.entries()) {
            replies.send({ kind: "embedding", choice: index, embedding: vector });
          }
          record.usage = result.usage;
          replies.send({ kind: "usage", usage: result.usage, costNanoUsd: costSoFar(records), started });
        }
        if (record.usage) progress.used(record.usage.inputTokens + record.usage.outputTokens);
        record.outcome = "completed";
      } catch (error) {
        // A failure the loop may fail over from is recorded here; the one that ends the request, by runAttempt.
        const reason = callSignal.aborted ? callSignal.reason : error;
        if (!signal.aborted) {
          record.fail(toFailure(reason));
          // Its real event replaces its trace, should the worker die during the next call.
          void context.bus.claims.trace(envelope.id, record.attempt, record.event(), traceMs).catch(() => {});
        }
        throw reason;
      } finally {
        record.ended();
      }
    },
  );
}

/** What a request's calls have cost so far (failed calls that answered in part are billed too); null when unpriced. */
function costSoFar(records: AttemptRecord[]): number | null {
  let total = 0;
  for (const record of records) {
    const { costNanoUsd, priced } = record.cost();
    if (!priced) return null;
    total += costNanoUsd;
  }
  return total;
}

/** A provider's part as the reply event the ingress renders; metadata stays in the worker. */
function replyFor(part: ChatPart): Parameters<ReplyStream["send"]>[0] | undefined {
  switch (part.type) {
    case "text-delta":
      return { kind: "text_delta", choice: part.choice, text: part.text };
    case "reasoning-delta":
      return {
        kind: "text_delta",
        choice: part.choice,
        reasoning: {
          text: part.text ?? "",
          signature: part.signature ?? null,
          redactedData: part.redactedData ?? null,
        },
      };
    case "tool-call-delta":
      return {
        kind: "tool_call_delta",
        choice: part.choice,
        toolCall: {
          index: part.index,
          id: part.id ?? null,
          name: part.name ?? null,
          argumentsDelta: part.argumentsDelta,
        },
      };
    case "finish":
      return {
        kind: "finish",
        choice: part.choice,
        finishReason: part.reason,
        stopSequence: part.stopSequence ?? null,
      };
    case "usage":
      return { kind: "usage", usage: part.usage };
    case "response-metadata":
      return undefined;
  }
}

/** Any error as a reply Failure: gateway errors keep their code; anything else is internal. */
function toFailure(error: unknown): Failure {
  if (error instanceof GatewayError) {
    return {
      code: error.code,
      message: error.message,
      status: error.status,
      retryAfterMs: error.details.retryAfterMs ?? null,
      param: error.details.param ?? null,
    };
  }
  return {
    code: "internal",
    message: "the worker failed while serving the request",
    status: 500,
    retryAfterMs: null,
    param: null,
  };
}
