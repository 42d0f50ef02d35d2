import { type Static, Type as T } from "@sinclair/typebox";
import type { FinishReason, Usage } from "../../../schemas/reply-event.ts";
import { nullable, ProviderData, type ProviderDataOf } from "../http/provider-data.ts";
import type { ChatPart } from "../provider.ts";

/** A token count: null reads as 0, as a missing one does, so neither fails a whole answer. */
const count = T.Optional(nullable(T.Number()));

const usage = T.Object({
  prompt_tokens: count,
  completion_tokens: count,
  prompt_tokens_details: T.Optional(nullable(T.Object({ cached_tokens: count }))),
  completion_tokens_details: T.Optional(nullable(T.Object({ reasoning_tokens: count }))),
});

/**
 * A message (whole answer) or a delta (stream). `reasoning_content` (DeepSeek, vLLM, llama.cpp)
 * and `reasoning` (OpenRouter, Ollama, newer vLLM) are how OpenAI-compatible servers show a
 * model's reasoning; OpenAI itself never does.
 */
const messageContent = T.Object({
  content: T.Optional(nullable(T.String())),
  reasoning_content: T.Optional(nullable(T.String())),
  reasoning: T.Optional(nullable(T.String())),
  tool_calls: T.Optional(
    nullable(
      T.Array(
        T.Object({
          index: T.Optional(T.Integer()),
          id: T.Optional(T.String()),
          function: T.Optional(T.Object({ name: T.Optional(T.String()), arguments: T.Optional(T.String()) })),
        }),
      ),
    ),
  ),
});

const choiceFields = { index: T.Integer(), finish_reason: T.Optional(nullable(T.String())) };

/** What the adapter reads of a whole `chat.completion`: every choice has its message. */
export const chatCompletion = new ProviderData(
  "a chat completion",
  T.Object({
    model: T.Optional(T.String()),
    choices: T.Array(T.Object({ ...choiceFields, message: messageContent })),
    usage: T.Optional(nullable(usage)),
  }),
);

/**
 * What it reads of a `chat.completion.chunk`: choices with deltas (none in the usage chunk), or
 * the error a provider sends in place of a chunk when it fails mid-stream.
 */
export const chatCompletionChunk = new ProviderData(
  "a stream chunk",
  T.Object({
    model: T.Optional(T.String()),
    choices: T.Optional(T.Array(T.Object({ ...choiceFields, delta: T.Optional(messageContent) }))),
    usage: T.Optional(nullable(usage)),
    error: T.Optional(nullable(T.Union([T.String(), T.Object({ message: T.Optional(T.String()) })]))),
  }),
);

/** What it reads of an embeddings list. */
export const embeddingList = new ProviderData(
  "an embeddings response",
  T.Object({
    model: T.Optional(T.String()),
    data: T.Array(T.Object({ index: T.Integer(), embedding: T.Array(T.Number()) })),
    usage: T.Optional(T.Object({ prompt_tokens: count })),
  }),
);

type OpenAIUsage = Static<typeof usage>;
type OpenAIChatCompletion =
  | ProviderDataOf<typeof chatCompletion>
  | ProviderDataOf<typeof chatCompletionChunk>;

const finishReasons: Record<string, FinishReason> = {
  stop: "stop",
  length: "length",
  tool_calls: "tool_calls",
  function_call: "tool_calls",
  content_filter: "content_filter",
};

export function usageOf(usage: OpenAIUsage): Usage {
  return {
    inputTokens: usage.prompt_tokens ?? 0,
    outputTokens: usage.completion_tokens ?? 0,
    cachedInputTokens: usage.prompt_tokens_details?.cached_tokens ?? 0,
    cacheWriteTokens: 0,
    reasoningTokens: usage.completion_tokens_details?.reasoning_tokens ?? 0,
  };
}

/**
 * The parts of one Chat Completions object, streamed (a `chat.completion.chunk`, whose choices
 * carry deltas) or whole (a `chat.completion`, whose choices carry messages): one mapping serves
 * both, since a whole answer is a single chunk holding everything.
 */
export function partsOf(completion: OpenAIChatCompletion): ChatPart[] {
  const parts: ChatPart[] = [];
  for (const choice of completion.choices ?? []) {
    const content = "message" in choice ? choice.message : choice.delta;
    const reasoning = content?.reasoning_content ?? content?.reasoning;
    if (typeof reasoning === "string" && reasoning !== "")
      parts.push({ type: "reasoning-delta", choice: choice.index, text: reasoning });

    if (content?.content) parts.push({ type: "text-delta", choice: choice.index, text: content.content });
    for (const [position, call] of (content?.tool_calls ?? []).entries()) {
      parts.push({
        type: "tool-call-delta",
        choice: choice.index,
        index: call.index ?? position,
        ...(call.id !== undefined && { id: call.id }),
        ...(call.function?.name !== undefined && { name: call.function.name }),
        argumentsDelta: call.function?.arguments ?? "",
      });
    }
    if (choice.finish_reason) {
      parts.push({
        type: "finish",
        choice: choice.index,
        reason: finishReasons[choice.finish_reason] ?? "stop",
      });
    }
  }
  if (completion.usage) parts.push({ type: "usage", usage: usageOf(completion.usage) });
  return parts;
}
