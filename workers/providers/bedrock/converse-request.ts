import { GatewayError } from "../../../schemas/errors.ts";
import type { ChatRequest, ContentPart } from "../../../schemas/request-envelope.ts";

type Block = Record<string, unknown>;
type Message = ChatRequest["messages"][number];

/** Converse's cache checkpoint: where a caller put Anthropic's `cache_control`, the prefix up to it is cached. */
const cachePoint = { cachePoint: { type: "default" } };

/**
 * The gateway's ChatRequest as a Converse body (the same for ConverseStream and CountTokens'
 * `converse` input). Converse has one system list, tool results inside user turns, turns that
 * must alternate (consecutive ones of a role are merged), and no `n`, seed or JSON response
 * format: asking for those is a clear 400.
 */
export function toConverseBody(request: ChatRequest) {
  refuseUnsupported(request);
  const system = request.messages
    .filter((message) => message.role === "system" || message.role === "developer")
    .flatMap((message) => message.content.flatMap((part) => withCachePoint({ text: part.text ?? "" }, part)));
  const messages: Array<{ role: string; content: Block[] }> = [];
  for (const message of request.messages) {
    if (message.role === "system" || message.role === "developer") continue;
    const role = message.role === "assistant" ? "assistant" : "user";
    const content = blocksOf(message);
    const last = messages.at(-1);
    if (last?.role === role) last.content.push(...content);
    else messages.push({ role, content });
  }
  const inferenceConfig = {
    ...(request.maxTokens !== null && { maxTokens: request.maxTokens }),
    ...(request.temperature !== null && { temperature: request.temperature }),
    ...(request.topP !== null && { topP: request.topP }),
    ...(request.stop.length > 0 && { stopSequences: request.stop }),
  };
  return {
    messages,
    ...(system.length > 0 && { system }),
    ...(Object.keys(inferenceConfig).length > 0 && { inferenceConfig }),
    ...(request.tools.length > 0 && { toolConfig: toolConfig(request) }),
  };
}

function refuseUnsupported(request: ChatRequest): void {
  const refuse = (param: string, what: string) => {
    throw new GatewayError("invalid_request", `${param}: the bedrock Converse API cannot ${what}`, { param });
  };
  if (request.n !== 1) refuse("n", "return several choices (n > 1)");
  if (request.seed !== null) refuse("seed", "take a seed");
  if (request.responseFormat && request.responseFormat.type !== "text")
    refuse("response_format", "force a JSON response format");
}

/**
 * Converse has no "none" tool choice and no switch for parallel calls: with `none` the tools go
 * without a choice (the model may still call one), and parallel calls are the model's to decide.
 */
function toolConfig(request: ChatRequest): Block {
  const tools = request.tools.flatMap((tool) =>
    withCachePoint(
      {
        toolSpec: {
          name: tool.name,
          ...(tool.description !== null && { description: tool.description }),
          inputSchema: { json: JSON.parse(tool.parametersJson) },
        },
      },
      tool,
    ),
  );
  const choice = request.toolChoice;
  const toolChoice =
    choice?.mode === "auto"
      ? { auto: {} }
      : choice?.mode === "required"
        ? { any: {} }
        : choice?.mode === "tool"
          ? { tool: { name: choice.toolName } }
          : undefined;
  return { tools, ...(toolChoice && { toolChoice }) };
}

/**
 * A message's content as Converse blocks, with its earlier reasoning put back where it was when it
 * is signed or redacted (a model verifies what it produced; unsigned reasoning from another
 * provider would be refused).
 */
function blocksOf(message: Message): Block[] {
  const blocks = message.content.map((part) => withCachePoint(toBlock(part), part));
  const reasoning = message.reasoning.filter((part) => part.signature !== null || part.redactedData !== null);
  for (const part of [...reasoning].reverse()) {
    const block =
      part.redactedData !== null
        ? { reasoningContent: { redactedContent: part.redactedData } }
        : { reasoningContent: { reasoningText: { text: part.text, signature: part.signature } } };
    blocks.splice(part.beforePart, 0, [block]);
  }
  return blocks.flat();
}

function withCachePoint(block: Block, source: { cacheControlJson: string | null }): Block[] {
  return source.cacheControlJson === null ? [block] : [block, cachePoint];
}

function toBlock(part: ContentPart): Block {
  switch (part.kind) {
    case "text":
      return { text: part.text ?? "" };
    case "image":
      return { image: imageOf(part.image) };
    case "tool_call":
      return {
        toolUse: {
          toolUseId: part.toolCallId,
          name: part.toolName,
          input: JSON.parse(part.argumentsJson || "{}"),
        },
      };
    case "tool_result":
      return {
        toolResult: {
          toolUseId: part.toolCallId,
          content: [{ text: part.text ?? "" }],
          ...(part.isError && { status: "error" }),
        },
      };
  }
}

/** Converse takes images as bytes (or from S3); the gateway does not fetch callers' URLs. */
function imageOf(image: ContentPart["image"]): Block {
  const inline = /^data:image\/([^;,]+);base64,(.*)$/s.exec(image?.url ?? "");
  const data = image?.data ? image.data.toString("base64") : inline?.[2];
  const mediaType = image?.data ? (image.mediaType ?? "image/png") : `image/${inline?.[1]}`;
  if (!data)
    throw new GatewayError(
      "invalid_request",
      "image_url: the bedrock Converse API takes images as base64 data only",
      {
        param: "image_url",
      },
    );
  return { format: mediaType.replace(/^image\//, "").replace("jpg", "jpeg"), source: { bytes: data } };
}
