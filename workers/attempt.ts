import { randomUUID } from "node:crypto";
import type { Bus, Delivery } from "../bus/contracts.ts";
import type { ModelCatalog } from "../config/model-catalog.ts";
import type { Logger } from "../runtime/logger.ts";
import type { AttemptEventInput } from "../schemas/attempt-event.ts";
import { GatewayError } from "../schemas/errors.ts";
import type { Failure, Usage } from "../schemas/reply-event.ts";
import type { RequestEnvelope } from "../schemas/request-envelope.ts";
import type { ChatPart, Provider } from "./providers/provider.ts";
import { ReplyStream } from "./reply-stream.ts";

export interface AttemptContext {
  workerId: string;
  bus: Bus;
  catalog: ModelCatalog;
  providers: Map<string, Provider>;
  heartbeatMs: number;
  log: Logger;
  /** Abort controllers of running attempts by request id, so cancels and shutdown can reach them. */
  running: Map<string, AbortController>;
}

/** The reason an attempt is aborted when its client went away. */
export class Cancelled extends Error {}

/** A claim lives this many heartbeats: a dead worker's claims lapse well before Kafka redelivers. */
const claimHeartbeats = 3;
/** How long a finished request is remembered, so a late redelivery of it is skipped. */
const finishedMemoryMs = 60 * 60_000;

/**
 * Runs one delivered request: skip it if it is stale, cancelled or claimed by a live worker;
 * otherwise call its provider, stream the reply events back and record the attempt.
 */
export async function runAttempt(delivery: Delivery, context: AttemptContext): Promise<void> {
  const { bus, log } = context;
  const envelope = delivery.envelope;
  const requestLog = log.child({ requestId: envelope.id });
  try {
    if (Date.now() > envelope.deadlineMs) return;
    const attempt = `${context.workerId}:${randomUUID().slice(0, 8)}`;
    const claimTtlMs = context.heartbeatMs * claimHeartbeats;
    if (!(await bus.claims.claim(envelope.id, attempt, claimTtlMs))) return;

    const record = new AttemptRecord(envelope, attempt, context.workerId);
    const abort = new AbortController();
    context.running.set(envelope.id, abort);
    const deadline = setTimeout(
      () => abort.abort(new GatewayError("timeout", "the request took longer than its deadline")),
      envelope.deadlineMs - Date.now(),
    );
    const replies = new ReplyStream(
      bus.replies,
      envelope.replyTo,
      envelope.id,
      attempt,
      context.heartbeatMs,
      () => {
        void bus.claims.renew(envelope.id, attempt, claimTtlMs).catch(() => {});
      },
    );
    try {
      await serve(envelope, replies, abort.signal, record, context);
      record.outcome = "completed";
    } catch (error) {
      const reason = abort.signal.aborted ? abort.signal.reason : error;
      if (reason instanceof Cancelled) {
        record.outcome = "cancelled";
      } else {
        const failure = toFailure(reason);
        if (failure.code === "internal")
          requestLog.error({ err: reason }, "request failed inside the worker");
        replies.send({ kind: "failed", failure });
        record.fail(failure);
      }
    } finally {
      clearTimeout(deadline);
      context.running.delete(envelope.id);
    }
    await replies
      .close()
      .catch((error: Error) => requestLog.warn({ err: error }, "a reply could not be delivered"));
    await bus.claims.finish(envelope.id, finishedMemoryMs);
    await bus.events
      .publish(record.event())
      .catch((error: Error) => requestLog.error({ err: error }, "attempt event lost"));
  } catch (error) {
    requestLog.error({ err: error }, "request could not be run");
  } finally {
    delivery.settle();
  }
}

async function serve(
  envelope: RequestEnvelope,
  replies: ReplyStream,
  signal: AbortSignal,
  record: AttemptRecord,
  context: AttemptContext,
): Promise<void> {
  const request = envelope.chat ?? envelope.embeddings;
  if (!request)
    throw new GatewayError("invalid_request", "the request carries neither a chat nor an embeddings call");
  const target = context.catalog.resolve(request.model);
  const provider = target && context.providers.get(target.provider);
  if (!target || !provider)
    throw new GatewayError("not_found", `the model ${request.model} is not served here`);
  record.provider = target.provider;
  record.providerModel = target.model;
  replies.announce({ workerId: context.workerId, provider: target.provider, model: target.model });

  const call = { model: target.model, signal, stream: envelope.stream, inboundApi: envelope.inboundApi };
  if (envelope.chat) {
    for await (const part of provider.chat(envelope.chat, call)) {
      signal.throwIfAborted();
      record.observe(part);
      const event = replyFor(part);
      if (event) replies.send(event);
    }
  } else if (envelope.embeddings) {
    const result = await provider.embed(envelope.embeddings, call);
    record.firstTokenAtMs = Date.now();
    for (const [index, vector] of result.vectors.entries()) {
      replies.send({ kind: "embedding", choice: index, embedding: vector });
    }
    record.usage = result.usage;
    replies.send({ kind: "usage", usage: result.usage });
  }
  replies.send({ kind: "completed" });
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

/** What the attempt did, gathered as it runs, for its analytics event. */
class AttemptRecord {
  provider = "";
  providerModel = "";
  outcome: AttemptEventInput["outcome"] = "failed";
  firstTokenAtMs: number | null = null;
  usage: Usage | undefined;
  private readonly startedAtMs = Date.now();
  private outputPieces = 0;
  private failure: Failure | undefined;

  constructor(
    private readonly envelope: RequestEnvelope,
    private readonly attempt: string,
    private readonly workerId: string,
  ) {}

  observe(part: ChatPart): void {
    if (part.type === "text-delta" || part.type === "tool-call-delta" || part.type === "reasoning-delta") {
      this.firstTokenAtMs ??= Date.now();
      this.outputPieces++;
    } else if (part.type === "usage") {
      this.usage = part.usage;
    }
  }

  fail(failure: Failure): void {
    this.outcome = "failed";
    this.failure = failure;
  }

  event(): AttemptEventInput {
    const { envelope } = this;
    const request = envelope.chat ?? envelope.embeddings;
    return {
      requestId: envelope.id,
      attempt: this.attempt,
      workerId: this.workerId,
      receivedAtMs: envelope.receivedAtMs,
      startedAtMs: this.startedAtMs,
      firstTokenAtMs: this.firstTokenAtMs,
      finishedAtMs: Date.now(),
      priority: envelope.priority,
      inboundApi: envelope.inboundApi,
      stream: envelope.stream,
      keyId: envelope.caller.keyId,
      user: envelope.caller.user,
      tags: envelope.caller.tags,
      modelRequested: request?.model ?? "",
      provider: this.provider,
      providerModel: this.providerModel,
      outcome: this.outcome,
      errorCode: this.failure?.code ?? (this.outcome === "cancelled" ? "cancelled" : null),
      status: this.failure?.status ?? (this.outcome === "cancelled" ? 499 : 200),
      usage: this.usage ?? this.estimatedUsage(),
      usageEstimated: this.usage === undefined,
    };
  }

  /**
   * The provider said nothing about usage (the stream was cut short): one token per streamed
   * piece, and the prompt at four characters a token. Flagged as estimated in the event.
   */
  private estimatedUsage(): Usage {
    const promptCharacters = JSON.stringify(
      this.envelope.chat?.messages ?? this.envelope.embeddings?.input ?? [],
    ).length;
    return {
      inputTokens: Math.ceil(promptCharacters / 4),
      outputTokens: this.outputPieces,
      cachedInputTokens: 0,
      cacheWriteTokens: 0,
      reasoningTokens: 0,
    };
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
