import type { FinishReason, ReplyEvent, Usage } from "../../../schemas/reply-event.ts";
import { errorBody } from "../../errors.ts";
import type { AnswerContext, Frame, StreamRenderer } from "../api.ts";
import { type Completion, emptyChoice, failureToError, type ReasoningBlock } from "../completion.ts";
import { encodeReasoningProof } from "./encrypted-reasoning.ts";

function responsesUsage(usage: Usage) {
  return {
    input_tokens: usage.inputTokens,
    input_tokens_details: { cached_tokens: usage.cachedInputTokens },
    output_tokens: usage.outputTokens,
    output_tokens_details: { reasoning_tokens: usage.reasoningTokens },
    total_tokens: usage.inputTokens + usage.outputTokens,
  };
}

/** A finish reason as the Response's status: cut short is "incomplete", with the reason. */
function status(reason: FinishReason) {
  if (reason === "length")
    return { status: "incomplete", incomplete_details: { reason: "max_output_tokens" } };
  if (reason === "content_filter")
    return { status: "incomplete", incomplete_details: { reason: "content_filter" } };
  return { status: "completed", incomplete_details: null };
}

type OutputItem = Record<string, unknown>;

const messageItem = (id: string, text: string, itemStatus: string): OutputItem => ({
  type: "message",
  id,
  status: itemStatus,
  role: "assistant",
  content:
    itemStatus === "in_progress" && text === "" ? [] : [{ type: "output_text", text, annotations: [] }],
});

const functionCallItem = (
  id: string,
  callId: string,
  name: string,
  args: string,
  itemStatus: string,
): OutputItem => ({
  type: "function_call",
  id,
  call_id: callId,
  name,
  arguments: args,
  status: itemStatus,
});

/**
 * A reasoning item: the text where the provider shows it, and in `encrypted_content` the proof the
 * provider needs to take its reasoning back in the next turn's input.
 */
const reasoningItem = (id: string, block: ReasoningBlock, done: boolean): OutputItem => ({
  type: "reasoning",
  id,
  summary: [],
  ...(done && {
    content: block.redactedData !== null ? [] : [{ type: "reasoning_text", text: block.text }],
    encrypted_content: encodeReasoningProof(block),
  }),
});

/** The Response object around some output, as every non-streamed answer and the stream's envelope events carry it. */
function responseObject(context: AnswerContext, output: OutputItem[], extra: Record<string, unknown>) {
  return {
    id: `resp_${context.id}`,
    object: "response",
    created_at: context.createdSeconds,
    model: context.model,
    output,
    error: null,
    incomplete_details: null,
    instructions: null,
    metadata: {},
    parallel_tool_calls: true,
    previous_response_id: null,
    tool_choice: "auto",
    tools: [],
    usage: null,
    ...context.options.echo,
    ...extra,
  };
}

/** A `response` object, as the Responses API answers a non-streaming call. */
export function openAIResponsesResponse(completion: Completion, context: AnswerContext) {
  const choice = completion.choices[0] ?? emptyChoice();
  const output = [
    ...choice.reasoning.map((block, index) => reasoningItem(`rs_${context.id}_${index}`, block, true)),
    ...(choice.text !== "" ? [messageItem(`msg_${context.id}`, choice.text, "completed")] : []),
    ...choice.toolCalls.map((call, index) =>
      functionCallItem(`fc_${context.id}_${index}`, call.id, call.name, call.arguments, "completed"),
    ),
  ];
  return responseObject(context, output, {
    ...status(choice.finishReason),
    usage: responsesUsage(completion.usage),
  });
}

/**
 * Reply events as the Responses API's typed stream: response.created / in_progress, then per
 * output item its `added`, deltas and `done` events (text: content_part and output_text events;
 * function calls: function_call_arguments events), then response.completed (or .incomplete)
 * carrying the whole response. Every event has a sequence_number.
 */
export class OpenAIResponsesStream implements StreamRenderer {
  private sequence = 0;
  private started = false;
  private readonly output: OutputItem[] = [];
  private open:
    | { kind: "text"; id: string; text: string }
    | { kind: "call"; id: string; callId: string; name: string; args: string; toolIndex: number }
    | ({ kind: "reasoning"; id: string } & ReasoningBlock)
    | undefined;
  private finishReason: FinishReason = "stop";
  private usage: Usage | undefined;
  /** The response the stream ended with: what `response.completed` (or `.incomplete`) carried, or the failure. */
  private final: ReturnType<typeof responseObject> | undefined;

  constructor(private readonly context: AnswerContext) {}

  render(event: ReplyEvent): Frame[] {
    if (event.choice !== 0) return [];
    switch (event.kind) {
      case "text_delta":
        if (event.reasoning) return [...this.start(), ...this.reasoning(event.reasoning)];
        return this.text(event.text ?? "");
      case "tool_call_delta":
        return event.toolCall ? this.toolCall(event.toolCall) : [];
      case "finish":
        this.finishReason = event.finishReason ?? "stop";
        return [...this.start(), ...this.closeItem()];
      case "usage":
        this.usage = event.usage ?? undefined;
        return [];
      case "completed": {
        const final = status(this.finishReason);
        const type = final.status === "completed" ? "response.completed" : "response.incomplete";
        const frames = [...this.start(), ...this.closeItem()];
        this.final = responseObject(this.context, this.output, {
          ...final,
          usage: this.usage ? responsesUsage(this.usage) : null,
        });
        return [...frames, this.frame(type, { response: this.final })];
      }
      case "failed": {
        const body = errorBody(failureToError(event), "openai") as {
          error: { message: string; code: string | null; param: string | null };
        };
        // What the caller saw of a response it was told of: the items it was sent whole, and the error.
        if (this.started)
          this.final = responseObject(this.context, this.output, {
            status: "failed",
            error: { code: body.error.code ?? "server_error", message: body.error.message },
            usage: this.usage ? responsesUsage(this.usage) : null,
          });
        return [
          this.frame("error", {
            code: body.error.code,
            message: body.error.message,
            param: body.error.param,
          }),
        ];
      }
      case "heartbeat":
        return [{ keepAlive: true }];
      default:
        return [];
    }
  }

  answer() {
    return this.final;
  }

  /** Text of the answer: a message item (opened with its content part at its first text), then deltas. */
  private text(delta: string): Frame[] {
    const frames = [...this.start()];
    if (this.open?.kind !== "text") {
      frames.push(...this.closeItem());
      const id = `msg_${this.context.id}_${this.output.length}`;
      this.open = { kind: "text", id, text: "" };
      frames.push(
        this.frame("response.output_item.added", {
          output_index: this.output.length,
          item: messageItem(id, "", "in_progress"),
        }),
        this.frame("response.content_part.added", {
          item_id: id,
          output_index: this.output.length,
          content_index: 0,
          part: { type: "output_text", text: "", annotations: [] },
        }),
      );
    }
    const open = this.open as { id: string; text: string };
    open.text += delta;
    frames.push(
      this.frame("response.output_text.delta", {
        item_id: open.id,
        output_index: this.output.length,
        content_index: 0,
        delta,
      }),
    );
    return frames;
  }

  /** A function call: its item (opened at its first delta, or when another call begins), then its arguments. */
  private toolCall(call: NonNullable<ReplyEvent["toolCall"]>): Frame[] {
    const frames = [...this.start()];
    if (this.open?.kind !== "call" || this.open.toolIndex !== call.index) {
      frames.push(...this.closeItem());
      const id = `fc_${this.context.id}_${this.output.length}`;
      this.open = {
        kind: "call",
        id,
        callId: call.id ?? id,
        name: call.name ?? "",
        args: "",
        toolIndex: call.index,
      };
      frames.push(
        this.frame("response.output_item.added", {
          output_index: this.output.length,
          item: functionCallItem(id, this.open.callId, this.open.name, "", "in_progress"),
        }),
      );
    }
    const open = this.open as { id: string; args: string };
    if (call.argumentsDelta !== "") {
      open.args += call.argumentsDelta;
      frames.push(
        this.frame("response.function_call_arguments.delta", {
          item_id: open.id,
          output_index: this.output.length,
          delta: call.argumentsDelta,
        }),
      );
    }
    return frames;
  }

  private frame(type: string, body: Record<string, unknown>): Frame {
    return { event: type, data: { type, sequence_number: this.sequence++, ...body } };
  }

  private start(): Frame[] {
    if (this.started) return [];
    this.started = true;
    const response = responseObject(this.context, [], { status: "in_progress" });
    return [this.frame("response.created", { response }), this.frame("response.in_progress", { response })];
  }

  /**
   * Reasoning items: `added`, then (unless redacted) a reasoning_text content part with its deltas,
   * and `done` once the provider signs the block or other output follows.
   */
  private reasoning(delta: NonNullable<ReplyEvent["reasoning"]>): Frame[] {
    const frames: Frame[] = [];
    if (this.open?.kind !== "reasoning" || delta.redactedData !== null) {
      frames.push(...this.closeItem());
      const id = `rs_${this.context.id}_${this.output.length}`;
      this.open = { kind: "reasoning", id, text: "", signature: null, redactedData: delta.redactedData };
      frames.push(
        this.frame("response.output_item.added", {
          output_index: this.output.length,
          item: reasoningItem(id, this.open, false),
        }),
      );
      if (delta.redactedData === null)
        frames.push(
          this.frame("response.content_part.added", {
            item_id: id,
            output_index: this.output.length,
            content_index: 0,
            part: { type: "reasoning_text", text: "" },
          }),
        );
    }
    const open = this.open as { id: string } & ReasoningBlock;
    if (delta.text !== "") {
      open.text += delta.text;
      frames.push(
        this.frame("response.reasoning_text.delta", {
          item_id: open.id,
          output_index: this.output.length,
          content_index: 0,
          delta: delta.text,
        }),
      );
    }
    if (delta.signature !== null) open.signature = delta.signature;
    if (delta.signature !== null || delta.redactedData !== null) frames.push(...this.closeItem());
    return frames;
  }

  private closeItem(): Frame[] {
    const open = this.open;
    if (!open) return [];
    this.open = undefined;
    const outputIndex = this.output.length;
    if (open.kind === "reasoning") {
      const item = reasoningItem(open.id, open, true);
      this.output.push(item);
      const part = { item_id: open.id, output_index: outputIndex, content_index: 0 };
      return [
        ...(open.redactedData !== null
          ? []
          : [
              this.frame("response.reasoning_text.done", { ...part, text: open.text }),
              this.frame("response.content_part.done", {
                ...part,
                part: { type: "reasoning_text", text: open.text },
              }),
            ]),
        this.frame("response.output_item.done", { output_index: outputIndex, item }),
      ];
    }
    if (open.kind === "text") {
      const item = messageItem(open.id, open.text, "completed");
      this.output.push(item);
      return [
        this.frame("response.output_text.done", {
          item_id: open.id,
          output_index: outputIndex,
          content_index: 0,
          text: open.text,
        }),
        this.frame("response.content_part.done", {
          item_id: open.id,
          output_index: outputIndex,
          content_index: 0,
          part: { type: "output_text", text: open.text, annotations: [] },
        }),
        this.frame("response.output_item.done", { output_index: outputIndex, item }),
      ];
    }
    const item = functionCallItem(open.id, open.callId, open.name, open.args, "completed");
    this.output.push(item);
    return [
      this.frame("response.function_call_arguments.done", {
        item_id: open.id,
        output_index: outputIndex,
        arguments: open.args,
      }),
      this.frame("response.output_item.done", { output_index: outputIndex, item }),
    ];
  }
}
