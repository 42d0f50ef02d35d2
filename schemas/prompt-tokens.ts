import {
  type ChatCompletionFunctionDefinition,
  type ChatCompletionRequest,
  type ChatMessage as CountedMessage,
  computeChatCompletionTokenCount,
} from "gpt-tokenizer/functionCalling";
import type { ChatRequest } from "./request-envelope.ts";
import { estimatedPromptTokens, type Prompted } from "./request-size.ts";
import { loadTokenizer, type TokenizerEncoding } from "./token-count.ts";

/** A prompt's tokens, and whether that is the provider's own count or the closest the gateway can say. */
export interface PromptCount {
  tokens: number;
  exact: boolean;
}

/** What an image takes at least (OpenAI's low-detail price): its real cost depends on its size, which the gateway does not read. */
const leastImageTokens = 85;

/**
 * A chat's prompt tokens as OpenAI bills them: each message's role, content and name with its
 * framing tokens, the reply's priming, and the tool definitions in the form OpenAI renders them
 * (gpt-tokenizer's `computeChatCompletionTokenCount`, with `countText` of the model's encoding).
 * Tool calls in the history count as function calls; a tool result as a `tool` message. Exact
 * but for images, whose tokens depend on their pixels: each counts its least, and the count says
 * it is not exact.
 */
export function countChatTokens(chat: ChatRequest, countText: (text: string) => number): PromptCount {
  const messages: CountedMessage[] = [];
  let images = 0;
  for (const message of chat.messages) {
    const text: string[] = [];
    const calls: CountedMessage[] = [];
    const results: CountedMessage[] = [];
    for (const part of message.content) {
      if (part.kind === "text") text.push(part.text ?? "");
      else if (part.kind === "image") images++;
      else if (part.kind === "tool_call")
        calls.push({
          role: "assistant",
          content: "",
          function_call: { name: part.toolName ?? "", arguments: part.argumentsJson ?? "" },
        });
      else results.push({ role: "tool", content: part.text ?? "" });
    }
    // Tool results are messages of their own at OpenAI: a turn of nothing else adds no message.
    messages.push(...results);
    const [firstCall, ...otherCalls] = calls;
    if (text.length > 0 || (!firstCall && results.length === 0))
      messages.push({
        role: message.role,
        content: text.join(""),
        ...(message.name !== null && { name: message.name }),
        ...(firstCall && { function_call: firstCall.function_call }),
      });
    else if (firstCall) messages.push(firstCall);
    messages.push(...otherCalls);
  }
  const request: ChatCompletionRequest = {
    messages,
    ...(chat.tools.length > 0 && {
      functions: chat.tools.map(
        (tool): ChatCompletionFunctionDefinition => ({
          name: tool.name,
          ...(tool.description !== null && { description: tool.description }),
          parameters: JSON.parse(tool.parametersJson),
        }),
      ),
    }),
    ...(chat.toolChoice?.mode === "none" && { function_call: "none" as const }),
    ...(chat.toolChoice?.mode === "tool" &&
      chat.toolChoice.toolName !== null && { function_call: { name: chat.toolChoice.toolName } }),
  };
  return {
    tokens: computeChatCompletionTokenCount(request, countText) + images * leastImageTokens,
    exact: images === 0,
  };
}

/**
 * A request's prompt tokens by the counter its deployment takes: the OpenAI encoding `encoding`
 * counts exactly (loading it the first time), without one the gateway's estimate (four characters
 * a token). Budgets, rate limits and count_tokens all count with this one function.
 */
export async function countPromptTokens(
  prompt: Prompted,
  encoding: TokenizerEncoding | undefined,
): Promise<PromptCount> {
  if (!encoding) return { tokens: estimatedPromptTokens(prompt), exact: false };
  const countText = await loadTokenizer(encoding);
  if (prompt.chat) return countChatTokens(prompt.chat, countText);
  const input = prompt.embeddings?.input ?? [];
  return { tokens: input.reduce((sum, text) => sum + countText(text), 0), exact: true };
}
