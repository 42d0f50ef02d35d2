import { GatewayError } from "../../../schemas/errors.ts";
import type { ChatRequest, ContentPart, InboundApi } from "../../../schemas/request-envelope.ts";

type Block = Record<string, unknown>;

/**
 * The gateway's ChatRequest as an Anthropic Messages body. Anthropic has one system prompt (system
 * and developer messages are gathered into it, in order), tool results inside user turns, and no
 * `n`, seed or JSON response format: asking for those is a clear 400, not a silent drop.
 */
export function toAnthropicBody(
  request: ChatRequest,
  model: string,
  stream: boolean,
  inboundApi: InboundApi,
  defaultMaxTokens: number,
) {
  refuseUnsupported(request);
  const extra =
    inboundApi === "anthropic_messages" && request.extraJson
      ? (JSON.parse(request.extraJson) as Record<string, unknown>)
      : {};
  const system = request.messages
    .filter((message) => message.role === "system" || message.role === "developer")
    .flatMap((message) => message.content.map((part) => ({ type: "text", text: part.text ?? "" })));
  const messages = request.messages
    .filter((message) => message.role !== "system" && message.role !== "developer")
    .map((message) => ({
      role: message.role === "assistant" ? "assistant" : "user",
      content: message.content.map(toBlock),
    }));
  return {
    ...extra,
    model,
    max_tokens: request.maxTokens ?? defaultMaxTokens,
    ...(system.length > 0 && { system }),
    messages,
    ...(request.tools.length > 0 && {
      tools: request.tools.map((tool) => ({
        name: tool.name,
        ...(tool.description !== null && { description: tool.description }),
        input_schema: JSON.parse(tool.parametersJson),
      })),
    }),
    ...(request.toolChoice && { tool_choice: toolChoice(request.toolChoice) }),
    ...(request.temperature !== null && { temperature: request.temperature }),
    ...(request.topP !== null && { top_p: request.topP }),
    ...(request.stop.length > 0 && { stop_sequences: request.stop }),
    ...(stream && { stream: true }),
  };
}

function refuseUnsupported(request: ChatRequest): void {
  const refuse = (param: string, what: string) => {
    throw new GatewayError("invalid_request", `${param}: the anthropic provider cannot ${what}`, { param });
  };
  if (request.n !== 1) refuse("n", "return several choices (n > 1)");
  if (request.seed !== null) refuse("seed", "take a seed");
  if (request.responseFormat && request.responseFormat.type !== "text")
    refuse("response_format", "force a JSON response format");
  if (request.temperature !== null && request.temperature > 1)
    refuse("temperature", "take a temperature above 1");
}

function toBlock(part: ContentPart): Block {
  switch (part.kind) {
    case "text":
      return { type: "text", text: part.text ?? "" };
    case "image":
      return { type: "image", source: imageSource(part.image) };
    case "tool_call":
      return {
        type: "tool_use",
        id: part.toolCallId,
        name: part.toolName,
        input: JSON.parse(part.argumentsJson || "{}"),
      };
    case "tool_result":
      return {
        type: "tool_result",
        tool_use_id: part.toolCallId,
        content: part.text ?? "",
        ...(part.isError && { is_error: true }),
      };
  }
}

function imageSource(image: ContentPart["image"]): Block {
  if (image?.data)
    return {
      type: "base64",
      media_type: image.mediaType ?? "image/png",
      data: image.data.toString("base64"),
    };
  const url = image?.url ?? "";
  const inline = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (inline) return { type: "base64", media_type: inline[1], data: inline[2] };
  return { type: "url", url };
}

function toolChoice(choice: NonNullable<ChatRequest["toolChoice"]>): Block {
  const parallel = choice.parallel === false ? { disable_parallel_tool_use: true } : {};
  switch (choice.mode) {
    case "auto":
      return { type: "auto", ...parallel };
    case "required":
      return { type: "any", ...parallel };
    case "tool":
      return { type: "tool", name: choice.toolName, ...parallel };
    case "none":
      return { type: "none" };
  }
}
