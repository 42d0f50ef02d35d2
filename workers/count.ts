import type { Span } from "@opentelemetry/api";
import { injectContext } from "../runtime/tracing.ts";
import { GatewayError } from "../schemas/errors.ts";
import { countPromptTokens } from "../schemas/prompt-tokens.ts";
import { type TokenCount, zeroUsage } from "../schemas/reply-event.ts";
import type { RequestEnvelope } from "../schemas/request-envelope.ts";
import type { AttemptContext } from "./attempt-context.ts";
import type { Provider } from "./providers/provider.ts";
import type { ReplyStream } from "./reply-stream.ts";
import type { CallProgress } from "./routing/failover.ts";
import type { Candidate } from "./routing/plan.ts";

/**
 * Answers a count request (RequestEnvelope.countTokens) at one deployment: its provider's counting
 * API when it has one, else the OpenAI encoding of its model, else the gateway's estimate — as one
 * usage event saying which. It makes no call record: counting is free at every provider, and a
 * row of input tokens without an answer would read as a billed call in analytics.
 */
export async function countAtDeployment(
  envelope: RequestEnvelope,
  replies: ReplyStream,
  context: AttemptContext,
  span: Span,
  candidate: Candidate,
  signal: AbortSignal,
  progress: CallProgress,
): Promise<void> {
  const chat = envelope.chat;
  if (!chat) throw new GatewayError("invalid_request", "a count request carries no chat");
  const { deployment } = candidate;
  // Config validation guarantees every deployment's provider exists.
  const provider = context.providers.get(deployment.provider) as Provider;
  let counted: { tokens: number; how: TokenCount };
  if (provider.countTokens) {
    const tokens = await provider.countTokens(chat, {
      model: deployment.model,
      signal,
      inboundApi: envelope.inboundApi,
      traceHeaders: span.isRecording() ? injectContext(span) : undefined,
    });
    counted = { tokens, how: "provider" };
  } else {
    const { tokens, exact } = await countPromptTokens(envelope, deployment.tokenizer);
    counted = { tokens, how: exact ? "exact" : "estimated" };
  }
  signal.throwIfAborted();
  progress.contentSent();
  replies.send({
    kind: "usage",
    usage: { ...zeroUsage, inputTokens: counted.tokens },
    tokenCount: counted.how,
    started: { workerId: context.workerId, provider: deployment.provider, model: deployment.model },
  });
}
