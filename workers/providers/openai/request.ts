import type { ChatRequest, ContentPart, InboundApi } from "../../../schemas/request-envelope.ts";
import { reasoningEffort } from "../reasoning.ts";

type OpenAIMessage = Record<string, unknown>;

/** Where OpenAI-style services differ in what they accept. */
export interface OpenAIDialect {
  /** OpenAI's reasoning models want `max_completion_tokens`; most compatible servers only know `max_tokens`. */
  maxTokensField: "max_tokens" | "max_completion_tokens";
  /** Whether the service honours `stream_options.include_usage` (usage in the last stream chunk). */
  streamUsage: boolean;
  /** Azure takes the model from the URL (the deployment), not the body. */
  sendModel: boolean;
}

/**
 * The gateway's ChatRequest as an OpenAI Chat Completions body. Options the caller sent that the
 * gateway does not model pass through only when the caller spoke this same API.
 */
export function toOpenAIChatBody(
  request: ChatRequest,
  model: string,
  stream: boolean,
  inboundApi: InboundApi,
  dialect: OpenAIDialect,
) {
  const extra =
    inboundApi === "openai_chat" && request.extraJson
      ? (JSON.parse(request.extraJson) as Record<string, unknown>)
      : {};
  const body: Record<string, unknown> = {
    ...extra,
    ...(dialect.sendModel && { model }),
    messages: request.messages.flatMap(toMessages),
    ...(request.tools.length > 0 && {
      tools: request.tools.map((tool) => ({
        type: "function",
        function: {
          name: tool.name,
          ...(tool.description !== null && { description: tool.description }),
          parameters: JSON.parse(tool.parametersJson),
        },
      })),
    }),
    ...(request.toolChoice && toolChoice(request.toolChoice)),
    ...(request.temperature !== null && { temperature: request.temperature }),
    ...(request.topP !== null && { top_p: request.topP }),
    ...(request.reasoning && { reasoning_effort: reasoningEffort(request.reasoning) }),
    ...(request.maxTokens !== null && { [dialect.maxTokensField]: request.maxTokens }),
    ...(request.stop.length > 0 && { stop: request.stop }),
    ...(request.seed !== null && { seed: request.seed }),
    ...(request.n !== 1 && { n: request.n }),
    ...(request.responseFormat && { response_format: responseFormat(request.responseFormat) }),
  };
  if (stream) {
    body.stream = true;
    // Usage is asked for even when the caller did not ask: the gateway needs it for every request.
    if (dialect.streamUsage) body.stream_options = { include_usage: true };
  }
  return body;
}

function toMessages(message: ChatRequest["messages"][number]): OpenAIMessage[] {
  const named = message.name !== null ? { name: message.name } : {};
  const results = message.content.filter((part) => part.kind === "tool_result");
  const toolMessages = results.map((part) => ({
    role: "tool",
    tool_call_id: part.toolCallId,
    content: part.text ?? "",
  }));
  const rest = message.content.filter((part) => part.kind !== "tool_result");
  if (message.role === "tool" || (results.length > 0 && rest.length === 0)) return toolMessages;

  if (message.role === "assistant") {
    const calls = rest.filter((part) => part.kind === "tool_call");
    const text = rest
      .filter((part) => part.kind === "text")
      .map((part) => part.text ?? "")
      .join("");
    return [
      ...toolMessages,
      {
        role: "assistant",
        content: text === "" && calls.length > 0 ? null : text,
        ...named,
        ...(calls.length > 0 && {
          tool_calls: calls.map((call) => ({
            id: call.toolCallId,
            type: "function",
            function: { name: call.toolName, arguments: call.argumentsJson ?? "{}" },
          })),
        }),
      },
    ];
  }
  const onlyText = rest.every((part) => part.kind === "text");
  const content = onlyText ? rest.map((part) => part.text ?? "").join("") : rest.map(toContentPart);
  return [...toolMessages, { role: message.role, content, ...named }];
}

function toContentPart(part: ContentPart): Record<string, unknown> {
  if (part.kind === "image" && part.image) {
    const url =
      part.image.url ??
      `data:${part.image.mediaType ?? "image/png"};base64,${part.image.data?.toString("base64") ?? ""}`;
    return {
      type: "image_url",
      image_url: { url, ...(part.image.detail !== null && { detail: part.image.detail }) },
    };
  }
  return { type: "text", text: part.text ?? "" };
}

function toolChoice(choice: NonNullable<ChatRequest["toolChoice"]>): Record<string, unknown> {
  const parallel = choice.parallel !== null ? { parallel_tool_calls: choice.parallel } : {};
  if (choice.mode === "tool")
    return { tool_choice: { type: "function", function: { name: choice.toolName } }, ...parallel };
  return { tool_choice: choice.mode, ...parallel };
}

function responseFormat(format: NonNullable<ChatRequest["responseFormat"]>): Record<string, unknown> {
  if (format.type !== "json_schema") return { type: format.type };
  return {
    type: "json_schema",
    json_schema: {
      name: format.schemaName,
      ...(format.schemaJson !== null && { schema: JSON.parse(format.schemaJson) }),
      ...(format.strict !== null && { strict: format.strict }),
    },
  };
}
