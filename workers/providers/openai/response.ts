import type { FinishReason, Usage } from "../../../schemas/reply-event.ts";
import type { ChatPart } from "../provider.ts";

interface OpenAIUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
  completion_tokens_details?: { reasoning_tokens?: number } | null;
}

interface OpenAIToolCall {
  index?: number;
  id?: string;
  function?: { name?: string; arguments?: string };
}

/**
 * `reasoning_content` (DeepSeek, vLLM, llama.cpp) and `reasoning` (OpenRouter, Ollama, newer vLLM)
 * are how OpenAI-compatible servers show a model's reasoning; OpenAI itself never does.
 */
interface OpenAIMessageContent {
  content?: string | null;
  reasoning_content?: string | null;
  reasoning?: string | null;
  tool_calls?: OpenAIToolCall[] | null;
}

export interface OpenAIChoice {
  index: number;
  message?: OpenAIMessageContent;
  delta?: OpenAIMessageContent;
  finish_reason?: string | null;
}

export interface OpenAIChatCompletion {
  model?: string;
  choices?: OpenAIChoice[];
  usage?: OpenAIUsage | null;
}

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
    const content = choice.delta ?? choice.message;
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
