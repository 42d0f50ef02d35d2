import type { FinishReason, ReplyEvent, Usage } from "../../../schemas/reply-event.ts";
import { errorBody } from "../../errors.ts";
import type { AnswerContext, Frame, StreamRenderer } from "../api.ts";
import { type Completion, emptyChoice, failureToError, type ReasoningBlock } from "../completion.ts";

const stopReasons: Record<FinishReason, string> = {
  stop: "end_turn",
  length: "max_tokens",
  tool_calls: "tool_use",
  content_filter: "refusal",
};

function anthropicUsage(usage: Usage) {
  return {
    input_tokens: usage.inputTokens - usage.cachedInputTokens - usage.cacheWriteTokens,
    output_tokens: usage.outputTokens,
    cache_creation_input_tokens: usage.cacheWriteTokens,
    cache_read_input_tokens: usage.cachedInputTokens,
  };
}

function parseArguments(json: string): unknown {
  try {
    return JSON.parse(json || "{}");
  } catch {
    return {};
  }
}

/** Reasoning as Anthropic shows it; reasoning of other providers has no signature (and is not sent back to Anthropic). */
function thinkingBlock(block: ReasoningBlock) {
  return block.redactedData !== null
    ? { type: "redacted_thinking", data: block.redactedData }
    : { type: "thinking", thinking: block.text, signature: block.signature ?? "" };
}

/** A `message` object, as Anthropic answers a non-streaming call. */
export function anthropicMessagesResponse(completion: Completion, context: AnswerContext) {
  const choice = completion.choices[0] ?? emptyChoice();
  return {
    id: `msg_${context.id}`,
    type: "message",
    role: "assistant",
    model: context.model,
    content: [
      ...choice.reasoning.map(thinkingBlock),
      ...(choice.text !== "" ? [{ type: "text", text: choice.text }] : []),
      ...choice.toolCalls.map((call) => ({
        type: "tool_use",
        id: call.id,
        name: call.name,
        input: parseArguments(call.arguments),
      })),
    ],
    stop_reason: choice.stopSequence !== undefined ? "stop_sequence" : stopReasons[choice.finishReason],
    stop_sequence: choice.stopSequence ?? null,
    usage: anthropicUsage(completion.usage),
  };
}

/**
 * Reply events as Anthropic's stream: message_start, then per content block start / deltas /
 * stop, then message_delta (stop reason, usage) and message_stop. Input tokens are only known at
 * the end for most providers, so message_start carries 0 and message_delta the real counts.
 */
export class AnthropicMessagesStream implements StreamRenderer {
  private started = false;
  private openBlock: { index: number; kind: "text" | "tool" | "thinking"; toolIndex?: number } | undefined;
  private nextBlock = 0;
  private stopReason = "end_turn";
  private stopSequence: string | null = null;
  private usage: Usage | undefined;

  constructor(private readonly context: AnswerContext) {}

  render(event: ReplyEvent): Frame[] {
    if (event.choice !== 0) return [];
    switch (event.kind) {
      case "text_delta":
        if (event.reasoning) return [...this.start(), ...this.reasoning(event.reasoning)];
        return [
          ...this.start(),
          ...this.ensureBlock("text"),
          this.frame("content_block_delta", {
            index: this.openBlock?.index,
            delta: { type: "text_delta", text: event.text ?? "" },
          }),
        ];
      case "tool_call_delta": {
        const call = event.toolCall;
        if (!call) return [];
        const frames = [...this.start()];
        if (call.id !== null || this.openBlock?.toolIndex !== call.index) {
          frames.push(...this.closeBlock());
          this.openBlock = { index: this.nextBlock++, kind: "tool", toolIndex: call.index };
          frames.push(
            this.frame("content_block_start", {
              index: this.openBlock.index,
              content_block: { type: "tool_use", id: call.id ?? "", name: call.name ?? "", input: {} },
            }),
          );
        }
        if (call.argumentsDelta !== "") {
          frames.push(
            this.frame("content_block_delta", {
              index: this.openBlock?.index,
              delta: { type: "input_json_delta", partial_json: call.argumentsDelta },
            }),
          );
        }
        return frames;
      }
      case "finish":
        this.stopSequence = event.stopSequence;
        this.stopReason =
          event.stopSequence !== null ? "stop_sequence" : stopReasons[event.finishReason ?? "stop"];
        return [...this.start(), ...this.closeBlock()];
      case "usage":
        this.usage = event.usage ?? undefined;
        return [];
      case "completed":
        return [
          ...this.start(),
          ...this.closeBlock(),
          this.frame("message_delta", {
            delta: { stop_reason: this.stopReason, stop_sequence: this.stopSequence },
            usage: this.usage ? anthropicUsage(this.usage) : { output_tokens: 0 },
          }),
          this.frame("message_stop", {}),
        ];
      case "failed":
        return [{ event: "error", data: errorBody(failureToError(event), "anthropic") }];
      case "heartbeat":
        return this.started ? [this.frame("ping", {})] : [];
      default:
        return [];
    }
  }

  private frame(type: string, body: Record<string, unknown>): Frame {
    return { event: type, data: { type, ...body } };
  }

  private start(): Frame[] {
    if (this.started) return [];
    this.started = true;
    return [
      this.frame("message_start", {
        message: {
          id: `msg_${this.context.id}`,
          type: "message",
          role: "assistant",
          model: this.context.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: {
            input_tokens: 0,
            output_tokens: 0,
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: 0,
          },
        },
      }),
    ];
  }

  /** Thinking blocks: deltas of text, then the signature, which ends the block; redacted data is a block of its own. */
  private reasoning(delta: NonNullable<ReplyEvent["reasoning"]>): Frame[] {
    if (delta.redactedData !== null) {
      const frames = this.closeBlock();
      const index = this.nextBlock++;
      frames.push(
        this.frame("content_block_start", {
          index,
          content_block: { type: "redacted_thinking", data: delta.redactedData },
        }),
        this.frame("content_block_stop", { index }),
      );
      return frames;
    }
    const frames = this.ensureBlock("thinking");
    const index = this.openBlock?.index;
    if (delta.text !== "")
      frames.push(
        this.frame("content_block_delta", { index, delta: { type: "thinking_delta", thinking: delta.text } }),
      );
    if (delta.signature !== null) {
      frames.push(
        this.frame("content_block_delta", {
          index,
          delta: { type: "signature_delta", signature: delta.signature },
        }),
        ...this.closeBlock(),
      );
    }
    return frames;
  }

  private ensureBlock(kind: "text" | "thinking"): Frame[] {
    if (this.openBlock?.kind === kind) return [];
    const frames = this.closeBlock();
    this.openBlock = { index: this.nextBlock++, kind };
    frames.push(
      this.frame("content_block_start", {
        index: this.openBlock.index,
        content_block:
          kind === "text" ? { type: "text", text: "" } : { type: "thinking", thinking: "", signature: "" },
      }),
    );
    return frames;
  }

  private closeBlock(): Frame[] {
    if (!this.openBlock) return [];
    const index = this.openBlock.index;
    this.openBlock = undefined;
    return [this.frame("content_block_stop", { index })];
  }
}
