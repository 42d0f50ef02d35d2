import { GatewayError } from "../../../schemas/errors.ts";
import type { FinishReason, Usage } from "../../../schemas/reply-event.ts";
import type { ChatPart } from "../provider.ts";

interface AnthropicUsage {
  input_tokens?: number;
  output_tokens?: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

type AnthropicBlock =
  | { type: "text"; text: string }
  | { type: "tool_use"; id: string; name: string; input: unknown }
  | { type: "thinking"; thinking: string; signature?: string }
  | { type: "redacted_thinking"; data: string }
  | { type: string };

export interface AnthropicMessage {
  model?: string;
  content?: AnthropicBlock[];
  stop_reason?: string | null;
  stop_sequence?: string | null;
  usage?: AnthropicUsage;
}

const finishReasons: Record<string, FinishReason> = {
  end_turn: "stop",
  stop_sequence: "stop",
  pause_turn: "stop",
  max_tokens: "length",
  tool_use: "tool_calls",
  refusal: "content_filter",
};

/** Anthropic counts cached input apart from `input_tokens`; the gateway's inputTokens is the whole prompt. */
export function anthropicUsage(usage: AnthropicUsage): Usage {
  const cacheRead = usage.cache_read_input_tokens ?? 0;
  const cacheWrite = usage.cache_creation_input_tokens ?? 0;
  return {
    inputTokens: (usage.input_tokens ?? 0) + cacheRead + cacheWrite,
    outputTokens: usage.output_tokens ?? 0,
    cachedInputTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
    reasoningTokens: 0,
  };
}

function finish(stopReason: string, stopSequence: string | null | undefined): ChatPart {
  return {
    type: "finish",
    choice: 0,
    reason: finishReasons[stopReason] ?? "stop",
    ...(stopReason === "stop_sequence" && stopSequence ? { stopSequence } : {}),
  };
}

/** The parts of a whole (non-streamed) message. */
export function partsOfMessage(message: AnthropicMessage): ChatPart[] {
  const parts: ChatPart[] = [];
  let toolIndex = 0;
  for (const block of message.content ?? []) {
    if (block.type === "text" && "text" in block)
      parts.push({ type: "text-delta", choice: 0, text: block.text });
    if (block.type === "thinking" && "thinking" in block)
      parts.push({
        type: "reasoning-delta",
        choice: 0,
        text: block.thinking,
        ...(block.signature && { signature: block.signature }),
      });
    if (block.type === "redacted_thinking" && "data" in block)
      parts.push({ type: "reasoning-delta", choice: 0, redactedData: block.data });
    if (block.type === "tool_use" && "id" in block) {
      parts.push({
        type: "tool-call-delta",
        choice: 0,
        index: toolIndex++,
        id: block.id,
        name: block.name,
        argumentsDelta: JSON.stringify(block.input ?? {}),
      });
    }
  }
  parts.push(finish(message.stop_reason ?? "end_turn", message.stop_sequence));
  if (message.usage) parts.push({ type: "usage", usage: anthropicUsage(message.usage) });
  return parts;
}

/**
 * Anthropic's stream events as parts, one event at a time. Local state: which content block is a
 * tool call (and its index among tool calls), the stop reason and the usage so far — `message_delta`
 * usage is cumulative, so the latest counts replace earlier ones.
 */
export class AnthropicStreamMapper {
  private readonly toolIndexOfBlock = new Map<number, number>();
  private usage: AnthropicUsage = {};
  private stopReason = "end_turn";
  private stopSequence: string | null | undefined;

  map(type: string, data: Record<string, unknown>): ChatPart[] {
    switch (type) {
      case "message_start": {
        const message = data.message as AnthropicMessage;
        this.usage = { ...message.usage };
        return message.model ? [{ type: "response-metadata", model: message.model }] : [];
      }
      case "content_block_start": {
        const block = data.content_block as AnthropicBlock;
        if (block.type === "redacted_thinking" && "data" in block)
          return [{ type: "reasoning-delta", choice: 0, redactedData: block.data }];
        if (block.type !== "tool_use" || !("id" in block)) return [];
        const index = this.toolIndexOfBlock.size;
        this.toolIndexOfBlock.set(data.index as number, index);
        return [
          { type: "tool-call-delta", choice: 0, index, id: block.id, name: block.name, argumentsDelta: "" },
        ];
      }
      case "content_block_delta": {
        const delta = data.delta as {
          type: string;
          text?: string;
          partial_json?: string;
          thinking?: string;
          signature?: string;
        };
        if (delta.type === "text_delta" && delta.text)
          return [{ type: "text-delta", choice: 0, text: delta.text }];
        if (delta.type === "thinking_delta" && delta.thinking)
          return [{ type: "reasoning-delta", choice: 0, text: delta.thinking }];
        if (delta.type === "signature_delta" && delta.signature)
          return [{ type: "reasoning-delta", choice: 0, signature: delta.signature }];
        const toolIndex = this.toolIndexOfBlock.get(data.index as number);
        if (delta.type === "input_json_delta" && toolIndex !== undefined && delta.partial_json) {
          return [
            { type: "tool-call-delta", choice: 0, index: toolIndex, argumentsDelta: delta.partial_json },
          ];
        }
        return [];
      }
      case "message_delta": {
        const delta = data.delta as { stop_reason?: string | null; stop_sequence?: string | null };
        if (delta.stop_reason) this.stopReason = delta.stop_reason;
        this.stopSequence = delta.stop_sequence;
        this.usage = { ...this.usage, ...(data.usage as AnthropicUsage | undefined) };
        return [];
      }
      case "message_stop":
        return [
          finish(this.stopReason, this.stopSequence),
          { type: "usage", usage: anthropicUsage(this.usage) },
        ];
      case "error": {
        const error = data.error as { type?: string; message?: string } | undefined;
        const overloaded = error?.type === "overloaded_error";
        throw new GatewayError(
          overloaded ? "overloaded" : "provider_error",
          `anthropic failed mid-stream: ${error?.message ?? "unknown error"}`,
        );
      }
      default:
        return []; // ping, content_block_stop, and events added later
    }
  }
}
