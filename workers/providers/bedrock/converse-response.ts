import { type Static, Type as T } from "@sinclair/typebox";
import type { FinishReason, Usage } from "../../../schemas/reply-event.ts";
import { ProviderData, type ProviderDataOf } from "../http/provider-data.ts";
import type { ChatPart } from "../provider.ts";
import { usageWithCacheApart } from "../usage.ts";

const usage = T.Object({
  inputTokens: T.Optional(T.Number()),
  outputTokens: T.Optional(T.Number()),
  cacheReadInputTokens: T.Optional(T.Number()),
  cacheWriteInputTokens: T.Optional(T.Number()),
});

const reasoningText = T.Object({ text: T.Optional(T.String()), signature: T.Optional(T.String()) });

/**
 * A content block is a union by key, not by a `type` field: a block with none of the keys the
 * adapter maps (citations, documents, guardrail assessments …) passes, ignored.
 */
const block = T.Object({
  text: T.Optional(T.String()),
  toolUse: T.Optional(T.Object({ toolUseId: T.String(), name: T.String(), input: T.Optional(T.Unknown()) })),
  reasoningContent: T.Optional(
    T.Object({ reasoningText: T.Optional(reasoningText), redactedContent: T.Optional(T.String()) }),
  ),
});

/** What the adapter reads of a Converse response. */
export const converseResponse = new ProviderData(
  "a response",
  T.Object({
    output: T.Object({ message: T.Object({ content: T.Array(block) }) }),
    stopReason: T.String(),
    usage: T.Optional(usage),
  }),
);

/** The payload of each ConverseStream event, by its `:event-type`; events it does not know are ignored. */
const streamEvents = {
  messageStart: new ProviderData("a messageStart event", T.Object({ role: T.String() })),
  contentBlockStart: new ProviderData(
    "a contentBlockStart event",
    T.Object({
      contentBlockIndex: T.Integer(),
      start: T.Object({ toolUse: T.Optional(T.Object({ toolUseId: T.String(), name: T.String() })) }),
    }),
  ),
  contentBlockDelta: new ProviderData(
    "a contentBlockDelta event",
    T.Object({
      contentBlockIndex: T.Integer(),
      delta: T.Object({
        text: T.Optional(T.String()),
        toolUse: T.Optional(T.Object({ input: T.String() })),
        reasoningContent: T.Optional(
          T.Object({
            text: T.Optional(T.String()),
            signature: T.Optional(T.String()),
            redactedContent: T.Optional(T.String()),
          }),
        ),
      }),
    }),
  ),
  messageStop: new ProviderData("a messageStop event", T.Object({ stopReason: T.String() })),
  metadata: new ProviderData("a metadata event", T.Object({ usage: usage })),
};

const finishReasons: Record<string, FinishReason> = {
  end_turn: "stop",
  stop_sequence: "stop",
  max_tokens: "length",
  model_context_window_exceeded: "length",
  tool_use: "tool_calls",
  guardrail_intervened: "content_filter",
  content_filtered: "content_filter",
};

const finish = (stopReason: string): ChatPart => ({
  type: "finish",
  choice: 0,
  reason: finishReasons[stopReason] ?? "stop",
});

/** Bedrock's usage: cached input is counted apart from `inputTokens`. */
function converseUsage(counts: Static<typeof usage>): Usage {
  return usageWithCacheApart({
    input: counts.inputTokens,
    output: counts.outputTokens,
    cacheRead: counts.cacheReadInputTokens,
    cacheWrite: counts.cacheWriteInputTokens,
  });
}

/** The parts of a whole Converse response. */
export function partsOfConverse(response: ProviderDataOf<typeof converseResponse>): ChatPart[] {
  const parts: ChatPart[] = [];
  let toolIndex = 0;
  for (const content of response.output.message.content) {
    const reasoning = content.reasoningContent;
    if (reasoning?.reasoningText)
      parts.push({
        type: "reasoning-delta",
        choice: 0,
        text: reasoning.reasoningText.text ?? "",
        ...signed(reasoning.reasoningText.signature),
      });
    if (reasoning?.redactedContent)
      parts.push({ type: "reasoning-delta", choice: 0, redactedData: reasoning.redactedContent });
    if (content.text !== undefined) parts.push({ type: "text-delta", choice: 0, text: content.text });
    if (content.toolUse)
      parts.push({
        type: "tool-call-delta",
        choice: 0,
        index: toolIndex++,
        id: content.toolUse.toolUseId,
        name: content.toolUse.name,
        argumentsDelta: JSON.stringify(content.toolUse.input ?? {}),
      });
  }
  parts.push(finish(response.stopReason));
  if (response.usage) parts.push({ type: "usage", usage: converseUsage(response.usage) });
  return parts;
}

const signed = (signature: string | undefined) => (signature ? { signature } : {});

/**
 * ConverseStream's events as parts, one event at a time. Local state: which content block is a
 * tool call, and its index among them. The finish comes with messageStop, the usage with the
 * metadata event after it.
 */
export class ConverseStreamMapper {
  private readonly toolIndexOfBlock = new Map<number, number>();

  map(type: string, payload: string): ChatPart[] {
    switch (type) {
      case "contentBlockStart": {
        const event = streamEvents.contentBlockStart.parse("bedrock", payload);
        const toolUse = event.start.toolUse;
        if (!toolUse) return [];
        const index = this.toolIndexOfBlock.size;
        this.toolIndexOfBlock.set(event.contentBlockIndex, index);
        return [
          {
            type: "tool-call-delta",
            choice: 0,
            index,
            id: toolUse.toolUseId,
            name: toolUse.name,
            argumentsDelta: "",
          },
        ];
      }
      case "contentBlockDelta": {
        const { delta, contentBlockIndex } = streamEvents.contentBlockDelta.parse("bedrock", payload);
        const toolIndex = this.toolIndexOfBlock.get(contentBlockIndex);
        const reasoning = delta.reasoningContent;
        if (delta.text) return [{ type: "text-delta", choice: 0, text: delta.text }];
        if (delta.toolUse?.input && toolIndex !== undefined)
          return [
            { type: "tool-call-delta", choice: 0, index: toolIndex, argumentsDelta: delta.toolUse.input },
          ];
        if (reasoning?.text) return [{ type: "reasoning-delta", choice: 0, text: reasoning.text }];
        if (reasoning?.signature)
          return [{ type: "reasoning-delta", choice: 0, signature: reasoning.signature }];
        if (reasoning?.redactedContent)
          return [{ type: "reasoning-delta", choice: 0, redactedData: reasoning.redactedContent }];
        return [];
      }
      case "messageStart":
        streamEvents.messageStart.parse("bedrock", payload);
        return [];
      case "messageStop":
        return [finish(streamEvents.messageStop.parse("bedrock", payload).stopReason)];
      case "metadata":
        return [
          { type: "usage", usage: converseUsage(streamEvents.metadata.parse("bedrock", payload).usage) },
        ];
      default:
        return []; // contentBlockStop, and events added later
    }
  }
}
