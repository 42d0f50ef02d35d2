import { Type as T } from "@sinclair/typebox";
import type { FinishReason, Usage } from "../../../schemas/reply-event.ts";
import { ProviderData, type ProviderDataOf } from "../http/provider-data.ts";
import type { ChatPart } from "../provider.ts";

/** A part: text (a thought, with `thought`) or a function call; other kinds (inline data, code) pass, ignored. */
const part = T.Object({
  text: T.Optional(T.String()),
  thought: T.Optional(T.Boolean()),
  functionCall: T.Optional(
    T.Object({ name: T.String(), args: T.Optional(T.Unknown()), id: T.Optional(T.String()) }),
  ),
});

const usageMetadata = T.Object({
  promptTokenCount: T.Optional(T.Number()),
  candidatesTokenCount: T.Optional(T.Number()),
  cachedContentTokenCount: T.Optional(T.Number()),
  thoughtsTokenCount: T.Optional(T.Number()),
});

const candidate = T.Object({
  index: T.Optional(T.Integer()),
  content: T.Optional(T.Object({ parts: T.Optional(T.Array(part)) })),
  finishReason: T.Optional(T.String()),
});

/** What the adapter reads of a countTokens answer. */
export const countTokensResponse = new ProviderData(
  "a token count",
  T.Object({ totalTokens: T.Integer({ minimum: 0 }) }),
);

const responseFields = { usageMetadata: T.Optional(usageMetadata), modelVersion: T.Optional(T.String()) };
/** Why Gemini blocked the prompt; it then sends no candidates at all. */
const promptFeedback = T.Object({ blockReason: T.Optional(T.String()) });

/**
 * What the adapter reads of a whole GenerateContentResponse: the answer is in its candidates,
 * which only a blocked prompt goes without.
 */
export const generateContentResponse = new ProviderData(
  "a response",
  T.Union([
    T.Object({
      candidates: T.Array(candidate),
      promptFeedback: T.Optional(promptFeedback),
      ...responseFields,
    }),
    T.Object({ promptFeedback: T.Object({ blockReason: T.String() }), ...responseFields }),
  ]),
);

/** What it reads of each streamed GenerateContentResponse, or of the error sent in place of one. */
export const generateContentChunk = new ProviderData(
  "a stream chunk",
  T.Object({
    candidates: T.Optional(T.Array(candidate)),
    promptFeedback: T.Optional(promptFeedback),
    ...responseFields,
    error: T.Optional(T.Object({ message: T.Optional(T.String()) })),
  }),
);

/** What it reads of batchEmbedContents. */
export const embeddingsResponse = new ProviderData(
  "an embeddings response",
  T.Object({ embeddings: T.Array(T.Object({ values: T.Array(T.Number()) })) }),
);

type GeminiResponse = ProviderDataOf<typeof generateContentChunk>;

const finishReasons: Record<string, FinishReason> = {
  STOP: "stop",
  MAX_TOKENS: "length",
  SAFETY: "content_filter",
  RECITATION: "content_filter",
  BLOCKLIST: "content_filter",
  PROHIBITED_CONTENT: "content_filter",
  SPII: "content_filter",
};

/**
 * Gemini's usage: the prompt count already includes cached tokens, and thinking tokens are
 * counted apart from the candidates (the gateway's outputTokens includes them, as billing does).
 */
export function geminiUsage(usage: NonNullable<GeminiResponse["usageMetadata"]>): Usage {
  const reasoning = usage.thoughtsTokenCount ?? 0;
  return {
    inputTokens: usage.promptTokenCount ?? 0,
    outputTokens: (usage.candidatesTokenCount ?? 0) + reasoning,
    cachedInputTokens: usage.cachedContentTokenCount ?? 0,
    cacheWriteTokens: 0,
    reasoningTokens: reasoning,
  };
}

/**
 * Gemini responses as parts, for a whole answer or each streamed chunk (each chunk is a response
 * object holding the new parts). Gemini sends a function call whole, gives it no id (one is made
 * up per call), and says STOP even after calling functions, which the gateway reports as
 * tool_calls. With `singleCall`, calls after the first are dropped: Gemini cannot be told to make
 * at most one, so the gateway enforces it. A prompt it blocked ends as filtered content.
 */
export class GeminiMapper {
  private readonly calls = new Map<number, number>();
  private usage: Usage | undefined;

  constructor(private readonly singleCall: boolean) {}

  map(response: GeminiResponse, final: boolean): ChatPart[] {
    const parts: ChatPart[] = [];
    for (const candidate of response.candidates ?? []) {
      const choice = candidate.index ?? 0;
      for (const part of candidate.content?.parts ?? []) {
        if (part.text)
          parts.push(
            part.thought
              ? { type: "reasoning-delta", choice, text: part.text }
              : { type: "text-delta", choice, text: part.text },
          );
        if (part.functionCall) {
          const index = this.calls.get(choice) ?? 0;
          if (this.singleCall && index > 0) continue;
          this.calls.set(choice, index + 1);
          parts.push({
            type: "tool-call-delta",
            choice,
            index,
            id: part.functionCall.id ?? `call_${choice}_${index}`,
            name: part.functionCall.name,
            argumentsDelta: JSON.stringify(part.functionCall.args ?? {}),
          });
        }
      }
      if (candidate.finishReason) {
        const reason =
          (this.calls.get(choice) ?? 0) > 0
            ? "tool_calls"
            : (finishReasons[candidate.finishReason] ?? "stop");
        parts.push({ type: "finish", choice, reason });
      }
    }
    // A blocked prompt has no candidates to finish: its answer is empty, filtered.
    if (response.promptFeedback?.blockReason && !response.candidates)
      parts.push({ type: "finish", choice: 0, reason: "content_filter" });
    if (response.usageMetadata) this.usage = geminiUsage(response.usageMetadata);
    if (final && this.usage) parts.push({ type: "usage", usage: this.usage });
    return parts;
  }
}
