import type { ReplyEvent, Usage } from "../../../schemas/reply-event.ts";
import { errorBody } from "../../errors.ts";
import type { AnswerContext, Frame, StreamRenderer } from "../api.ts";
import type { Completion } from "../completion.ts";
import { failureToError } from "../completion.ts";

export function openAIUsage(usage: Usage) {
  return {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedInputTokens },
    completion_tokens_details: { reasoning_tokens: usage.reasoningTokens },
  };
}

/**
 * OpenAI never shows reasoning; where another provider does, it goes in `reasoning_content`, as
 * DeepSeek, vLLM and other OpenAI-compatible servers send it (clients that do not know it ignore it).
 */
function reasoningContent(text: string) {
  return text === "" ? {} : { reasoning_content: text };
}

/** A `chat.completion` object, as OpenAI answers a non-streaming call. */
export function openAIChatResponse(completion: Completion, context: AnswerContext) {
  return {
    id: `chatcmpl-${context.id}`,
    object: "chat.completion",
    created: context.createdSeconds,
    model: context.model,
    choices: completion.choices.map((choice, index) => ({
      index,
      message: {
        role: "assistant",
        content: choice.toolCalls.length > 0 && choice.text === "" ? null : choice.text,
        ...reasoningContent(choice.reasoning.map((block) => block.text).join("")),
        refusal: null,
        ...(choice.toolCalls.length > 0 && {
          tool_calls: choice.toolCalls.map((call) => ({
            id: call.id,
            type: "function",
            function: { name: call.name, arguments: call.arguments },
          })),
        }),
      },
      logprobs: null,
      finish_reason: choice.finishReason,
    })),
    usage: openAIUsage(completion.usage),
    system_fingerprint: null,
  };
}

/** Reply events as `chat.completion.chunk` frames, one per event, as OpenAI streams them. */
export class OpenAIChatStream implements StreamRenderer {
  private readonly roleSent = new Set<number>();

  constructor(private readonly context: AnswerContext) {}

  render(event: ReplyEvent): Frame[] {
    switch (event.kind) {
      case "text_delta":
        if (event.reasoning)
          return event.reasoning.text === ""
            ? []
            : [this.chunk(event.choice, reasoningContent(event.reasoning.text))];
        return [this.chunk(event.choice, { content: event.text ?? "" })];
      case "tool_call_delta": {
        const call = event.toolCall;
        if (!call) return [];
        const first = call.id !== null;
        return [
          this.chunk(event.choice, {
            tool_calls: [
              first
                ? {
                    index: call.index,
                    id: call.id,
                    type: "function",
                    function: { name: call.name ?? "", arguments: call.argumentsDelta },
                  }
                : { index: call.index, function: { arguments: call.argumentsDelta } },
            ],
          }),
        ];
      }
      case "finish":
        return [this.chunk(event.choice, {}, event.finishReason)];
      case "usage":
        return this.context.options.includeUsage && event.usage
          ? [{ data: { ...this.base(), choices: [], usage: openAIUsage(event.usage) } }]
          : [];
      case "failed":
        // OpenAI reports a failure mid-stream as a data line with an error object; the SDKs raise it.
        return [{ data: errorBody(failureToError(event), "openai") }];
      case "heartbeat":
        return [{ keepAlive: true }];
      default:
        return [];
    }
  }

  private base() {
    return {
      id: `chatcmpl-${this.context.id}`,
      object: "chat.completion.chunk",
      created: this.context.createdSeconds,
      model: this.context.model,
      system_fingerprint: null,
      ...(this.context.options.includeUsage && { usage: null }),
    };
  }

  /** The first chunk of each choice also carries the assistant role, as OpenAI's does. */
  private chunk(choice: number, delta: Record<string, unknown>, finishReason: string | null = null): Frame {
    const withRole = this.roleSent.has(choice) ? delta : { role: "assistant", ...delta };
    this.roleSent.add(choice);
    return {
      data: {
        ...this.base(),
        choices: [{ index: choice, delta: withRole, logprobs: null, finish_reason: finishReason }],
      },
    };
  }
}
