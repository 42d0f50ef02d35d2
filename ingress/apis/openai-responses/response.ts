import type { FinishReason, ReplyEvent, Usage } from "../../../schemas/reply-event.ts";
import { errorBody } from "../../errors.ts";
import type { AnswerContext, Frame, StreamRenderer } from "../api.ts";
import { type Completion, failureToError } from "../completion.ts";

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
    ...extra,
  };
}

/** A `response` object, as the Responses API answers a non-streaming call. */
export function openAIResponsesResponse(completion: Completion, context: AnswerContext) {
  const choice = completion.choices[0] ?? { text: "", toolCalls: [], finishReason: "stop" as const };
  const output = [
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
    | undefined;
  private finishReason: FinishReason = "stop";
  private usage: Usage | undefined;

  constructor(private readonly context: AnswerContext) {}

  render(event: ReplyEvent): Frame[] {
    if (event.choice !== 0) return [];
    switch (event.kind) {
      case "text_delta": {
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
          );
          frames.push(
            this.frame("response.content_part.added", {
              item_id: id,
              output_index: this.output.length,
              content_index: 0,
              part: { type: "output_text", text: "", annotations: [] },
            }),
          );
        }
        const open = this.open as { id: string; text: string };
        open.text += event.text ?? "";
        frames.push(
          this.frame("response.output_text.delta", {
            item_id: open.id,
            output_index: this.output.length,
            content_index: 0,
            delta: event.text ?? "",
          }),
        );
        return frames;
      }
      case "tool_call_delta": {
        const call = event.toolCall;
        if (!call) return [];
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
      case "finish":
        this.finishReason = event.finishReason ?? "stop";
        return [...this.start(), ...this.closeItem()];
      case "usage":
        this.usage = event.usage ?? undefined;
        return [];
      case "completed": {
        const final = status(this.finishReason);
        const type = final.status === "completed" ? "response.completed" : "response.incomplete";
        return [
          ...this.start(),
          ...this.closeItem(),
          this.frame(type, {
            response: responseObject(this.context, this.output, {
              ...final,
              usage: this.usage ? responsesUsage(this.usage) : null,
            }),
          }),
        ];
      }
      case "failed": {
        const body = errorBody(failureToError(event), "openai") as {
          error: { message: string; code: string | null; param: string | null };
        };
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

  private frame(type: string, body: Record<string, unknown>): Frame {
    return { event: type, data: { type, sequence_number: this.sequence++, ...body } };
  }

  private start(): Frame[] {
    if (this.started) return [];
    this.started = true;
    const response = responseObject(this.context, [], { status: "in_progress" });
    return [this.frame("response.created", { response }), this.frame("response.in_progress", { response })];
  }

  private closeItem(): Frame[] {
    const open = this.open;
    if (!open) return [];
    this.open = undefined;
    const outputIndex = this.output.length;
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
