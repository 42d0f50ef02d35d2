import type { Span } from "@opentelemetry/api";
import { costNanoUsd } from "../config/pricing/cost.ts";
import type { AttemptEventInput } from "../schemas/attempt-event.ts";
import { type Failure, type Usage, zeroUsage } from "../schemas/reply-event.ts";
import type { RequestEnvelope } from "../schemas/request-envelope.ts";
import { mostOutputTokens, mostPromptTokens, promptJsonOf } from "../schemas/request-size.ts";
import { countTokens } from "../schemas/token-count.ts";
import type { ChatPart } from "./providers/provider.ts";
import type { Candidate } from "./routing/plan.ts";

/** The id of a request's `index`th provider call (from 0) in `attempt`: its trace's and its event's. */
export const callId = (attempt: string, index: number) => `${attempt}.${index}`;

/**
 * What one call to a deployment did, gathered as it runs, for its analytics event: a request
 * that failed over has one record per deployment it tried, which is how analytics shows its path.
 */
export class AttemptRecord {
  outcome: AttemptEventInput["outcome"] = "failed";
  firstTokenAtMs: number | null = null;
  usage: Usage | undefined;
  /** The call's trace span, when it reached a deployment. */
  span: Span | undefined;
  private readonly startedAtMs = Date.now();
  private endedAtMs: number | undefined;
  /** The answer's text as it streamed, to count it when the provider reports no usage. */
  private readonly output: string[] = [];
  private failure: Failure | undefined;

  constructor(
    private readonly envelope: RequestEnvelope,
    readonly attempt: string,
    private readonly workerId: string,
    private readonly candidate: Candidate | undefined,
  ) {}

  /** Whether any of the answer reached the client. */
  get contentSent(): boolean {
    return this.firstTokenAtMs !== null;
  }

  observe(part: ChatPart): void {
    if (part.type === "text-delta" || part.type === "tool-call-delta" || part.type === "reasoning-delta") {
      this.firstTokenAtMs ??= Date.now();
      this.output.push(
        part.type === "tool-call-delta" ? `${part.name ?? ""}${part.argumentsDelta}` : (part.text ?? ""),
      );
    } else if (part.type === "usage") {
      this.usage = part.usage;
    }
  }

  /** The call is over. Until then (and for a request that failed before any call) it ends when it is recorded. */
  ended(): void {
    this.endedAtMs ??= Date.now();
  }

  fail(failure: Failure): void {
    this.outcome = "failed";
    this.failure = failure;
  }

  event(): AttemptEventInput {
    return this.eventWith(this.usageOf());
  }

  /**
   * The call's event if its worker dies before it ends (kept as its trace, see ClaimStore): failed
   * with error `lost`, billed the most the provider could bill (`outputTokens` for a request without
   * max_tokens), so spend in analytics never falls below what providers charged.
   */
  lostEvent(outputTokens: number): AttemptEventInput {
    const usage = {
      ...zeroUsage,
      inputTokens: mostPromptTokens(this.envelope),
      outputTokens: mostOutputTokens(this.envelope, outputTokens),
    };
    return {
      ...this.eventWith({ usage, usageEstimated: true }),
      outcome: "failed",
      errorCode: "lost",
      status: 0,
    };
  }

  private eventWith(used: { usage: Usage; usageEstimated: boolean }): AttemptEventInput {
    const { envelope, candidate } = this;
    const request = envelope.chat ?? envelope.embeddings;
    return {
      requestId: envelope.id,
      attempt: this.attempt,
      workerId: this.workerId,
      receivedAtMs: envelope.receivedAtMs,
      startedAtMs: this.startedAtMs,
      firstTokenAtMs: this.firstTokenAtMs,
      finishedAtMs: this.endedAtMs ?? Date.now(),
      priority: envelope.priority,
      inboundApi: envelope.inboundApi,
      stream: envelope.stream,
      keyId: envelope.caller.keyId,
      user: envelope.caller.user,
      tags: envelope.caller.tags,
      modelRequested: request?.model ?? "",
      route: candidate?.route.name ?? "",
      deployment: candidate?.deployment.name ?? "",
      cache: envelope.cache ?? "",
      provider: candidate?.deployment.provider ?? "",
      providerModel: candidate?.deployment.model ?? "",
      outcome: this.outcome,
      errorCode: this.failure?.code ?? (this.outcome === "cancelled" ? "cancelled" : null),
      status: this.failure?.status ?? (this.outcome === "cancelled" ? 499 : 200),
      ...used,
      ...this.cost(used.usage),
      batchId: envelope.batch?.batchId ?? null,
    };
  }

  /** What the call cost at its deployment's price (the usage so far; estimated when the provider said nothing). */
  cost(usage = this.usageOf().usage): { costNanoUsd: number; priced: boolean } {
    const deployment = this.candidate?.deployment;
    if (!deployment?.price) return { costNanoUsd: 0, priced: false };
    const batch = deployment.batchDiscount && this.envelope.priority === "batch";
    return { costNanoUsd: costNanoUsd(usage, deployment.price, { batch }), priced: true };
  }

  /**
   * The provider's usage; none from a call that failed before answering (providers do not bill
   * those); otherwise, when the provider said nothing (a stream cut short, a cancelled call), the
   * prompt and the text streamed so far counted with the tokenizer, flagged as estimated.
   */
  private usageOf(): { usage: Usage; usageEstimated: boolean } {
    if (this.usage) return { usage: this.usage, usageEstimated: false };
    if (this.outcome === "failed" && !this.contentSent) return { usage: zeroUsage, usageEstimated: false };
    return {
      usage: {
        ...zeroUsage,
        inputTokens: countTokens(promptJsonOf(this.envelope)),
        outputTokens: countTokens(this.output.join("")),
      },
      usageEstimated: true,
    };
  }
}
