import { type Static, Type as T } from "@sinclair/typebox";
import { GatewayError } from "../../../schemas/errors.ts";
import type { FinishReason, Usage } from "../../../schemas/reply-event.ts";
import { nullable, openUnion, ProviderData, type ProviderDataOf } from "../http/provider-data.ts";
import type { ChatPart } from "../provider.ts";
import { usageWithCacheApart } from "../usage.ts";

const usage = T.Object({
  input_tokens: T.Optional(T.Number()),
  output_tokens: T.Optional(T.Number()),
  cache_creation_input_tokens: T.Optional(nullable(T.Number())),
  cache_read_input_tokens: T.Optional(nullable(T.Number())),
});

/** Content blocks: those the adapter maps must be whole; others (server tools, citations …) pass, ignored. */
const block = openUnion([
  T.Object({ type: T.Literal("text"), text: T.String() }),
  T.Object({ type: T.Literal("tool_use"), id: T.String(), name: T.String(), input: T.Optional(T.Unknown()) }),
  T.Object({ type: T.Literal("thinking"), thinking: T.String(), signature: T.Optional(T.String()) }),
  T.Object({ type: T.Literal("redacted_thinking"), data: T.String() }),
]);

const stopFields = {
  stop_reason: T.Optional(nullable(T.String())),
  stop_sequence: T.Optional(nullable(T.String())),
};

/** What the adapter reads of a whole message. */
export const anthropicMessage = new ProviderData(
  "a message",
  T.Object({
    model: T.Optional(T.String()),
    content: T.Array(block),
    ...stopFields,
    usage: T.Optional(usage),
  }),
);

/** What it reads of a count_tokens answer. */
export const anthropicTokenCount = new ProviderData(
  "a token count",
  T.Object({ input_tokens: T.Integer({ minimum: 0 }) }),
);

/** What it reads of each stream event; ping, content_block_stop and events added later pass, ignored. */
export const anthropicStreamEvent = new ProviderData(
  "a stream event",
  openUnion([
    T.Object({
      type: T.Literal("message_start"),
      message: T.Object({ model: T.Optional(T.String()), usage: T.Optional(usage) }),
    }),
    T.Object({ type: T.Literal("content_block_start"), index: T.Integer(), content_block: block }),
    T.Object({
      type: T.Literal("content_block_delta"),
      index: T.Integer(),
      delta: openUnion([
        T.Object({ type: T.Literal("text_delta"), text: T.String() }),
        T.Object({ type: T.Literal("input_json_delta"), partial_json: T.String() }),
        T.Object({ type: T.Literal("thinking_delta"), thinking: T.String() }),
        T.Object({ type: T.Literal("signature_delta"), signature: T.String() }),
      ]),
    }),
    T.Object({ type: T.Literal("message_delta"), delta: T.Object(stopFields), usage: T.Optional(usage) }),
    T.Object({ type: T.Literal("message_stop") }),
    T.Object({
      type: T.Literal("error"),
      error: T.Object({ type: T.Optional(T.String()), message: T.Optional(T.String()) }),
    }),
  ]),
);

type AnthropicUsage = Static<typeof usage>;
type AnthropicMessage = ProviderDataOf<typeof anthropicMessage>;
type AnthropicStreamEvent = ProviderDataOf<typeof anthropicStreamEvent>;

const finishReasons: Record<string, FinishReason> = {
  end_turn: "stop",
  stop_sequence: "stop",
  pause_turn: "stop",
  max_tokens: "length",
  tool_use: "tool_calls",
  refusal: "content_filter",
};

/** Anthropic's usage: cached input is counted apart from `input_tokens`. */
export function anthropicUsage(usage: AnthropicUsage): Usage {
  return usageWithCacheApart({
    input: usage.input_tokens,
    output: usage.output_tokens,
    cacheRead: usage.cache_read_input_tokens,
    cacheWrite: usage.cache_creation_input_tokens,
  });
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
  for (const block of message.content) {
    if (block.type === "text") parts.push({ type: "text-delta", choice: 0, text: block.text });
    if (block.type === "thinking")
      parts.push({
        type: "reasoning-delta",
        choice: 0,
        text: block.thinking,
        ...(block.signature && { signature: block.signature }),
      });
    if (block.type === "redacted_thinking")
      parts.push({ type: "reasoning-delta", choice: 0, redactedData: block.data });
    if (block.type === "tool_use") {
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

  map(event: AnthropicStreamEvent): ChatPart[] {
    switch (event.type) {
      case "message_start": {
        const { message } = event;
        this.usage = { ...message.usage };
        return message.model ? [{ type: "response-metadata", model: message.model }] : [];
      }
      case "content_block_start": {
        const block = event.content_block;
        if (block.type === "redacted_thinking")
          return [{ type: "reasoning-delta", choice: 0, redactedData: block.data }];
        if (block.type !== "tool_use") return [];
        const index = this.toolIndexOfBlock.size;
        this.toolIndexOfBlock.set(event.index, index);
        return [
          { type: "tool-call-delta", choice: 0, index, id: block.id, name: block.name, argumentsDelta: "" },
        ];
      }
      case "content_block_delta": {
        const delta = event.delta;
        if (delta.type === "text_delta" && delta.text)
          return [{ type: "text-delta", choice: 0, text: delta.text }];
        if (delta.type === "thinking_delta" && delta.thinking)
          return [{ type: "reasoning-delta", choice: 0, text: delta.thinking }];
        if (delta.type === "signature_delta" && delta.signature)
          return [{ type: "reasoning-delta", choice: 0, signature: delta.signature }];
        const toolIndex = this.toolIndexOfBlock.get(event.index);
        if (delta.type === "input_json_delta" && toolIndex !== undefined && delta.partial_json) {
          return [
            { type: "tool-call-delta", choice: 0, index: toolIndex, argumentsDelta: delta.partial_json },
          ];
        }
        return [];
      }
      case "message_delta": {
        if (event.delta.stop_reason) this.stopReason = event.delta.stop_reason;
        this.stopSequence = event.delta.stop_sequence;
        this.usage = { ...this.usage, ...event.usage };
        return [];
      }
      case "message_stop":
        return [
          finish(this.stopReason, this.stopSequence),
          { type: "usage", usage: anthropicUsage(this.usage) },
        ];
      case "error": {
        const overloaded = event.error.type === "overloaded_error";
        throw new GatewayError(
          overloaded ? "overloaded" : "provider_error",
          `anthropic failed mid-stream: ${event.error.message ?? "unknown error"}`,
        );
      }
      default:
        return []; // ping, content_block_stop, and events added later
    }
  }
}
