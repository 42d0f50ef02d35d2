import { GatewayError } from "../../../schemas/errors.ts";
import type { ChatRequest, ContentPart, InboundApi } from "../../../schemas/request-envelope.ts";
import { reasoningBudget } from "../reasoning.ts";

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
    .flatMap((message) =>
      message.content.map((part) => withCacheControl({ type: "text", text: part.text ?? "" }, part)),
    );
  const messages = request.messages
    .filter((message) => message.role !== "system" && message.role !== "developer")
    .map((message) => ({
      role: message.role === "assistant" ? "assistant" : "user",
      content: blocksOf(message),
    }));
  const { maxTokens, thinking } = thinkingOf(request, defaultMaxTokens);
  return {
    ...extra,
    model,
    max_tokens: maxTokens,
    ...(thinking && { thinking }),
    ...(system.length > 0 && { system }),
    messages,
    ...(request.tools.length > 0 && {
      tools: request.tools.map((tool) =>
        withCacheControl(
          {
            name: tool.name,
            ...(tool.description !== null && { description: tool.description }),
            input_schema: JSON.parse(tool.parametersJson),
          },
          tool,
        ),
      ),
    }),
    ...(request.toolChoice && { tool_choice: toolChoice(request.toolChoice) }),
    ...(request.temperature !== null && { temperature: request.temperature }),
    ...(request.topP !== null && { top_p: request.topP }),
    ...(request.stop.length > 0 && { stop_sequences: request.stop }),
    ...(stream && { stream: true }),
  };
}

/**
 * The fields of a Messages body that Anthropic's count_tokens takes: it refuses any other ("Extra
 * inputs are not permitted"), max_tokens and fields a Messages caller passed through among them.
 */
const countedFields = [
  "model",
  "messages",
  "system",
  "tools",
  "tool_choice",
  "thinking",
  "mcp_servers",
] as const;

/** A count_tokens body: what a call of this request would send that counts (Anthropic, and Claude on Vertex). */
export function toAnthropicCountBody(request: ChatRequest, model: string, inboundApi: InboundApi) {
  // No limit, so that a thinking budget made from an effort is what a call would send (a count
  // request carries max_tokens 1, see RequestEnvelope.countTokens); the limit itself is dropped.
  const body: Record<string, unknown> = toAnthropicBody(
    { ...request, maxTokens: null },
    model,
    false,
    inboundApi,
    1,
  );
  return Object.fromEntries(
    countedFields.flatMap((field) => (body[field] === undefined ? [] : [[field, body[field]]])),
  );
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

const minimumBudget = 1024;

/**
 * Anthropic's `thinking` for the request's reasoning. A budget the caller named goes as it is. A
 * budget made from an effort must fit under max_tokens, as OpenAI's max tokens include the
 * reasoning: it is cut to fit, or, when the caller set no limit, max_tokens grows to hold it.
 */
function thinkingOf(request: ChatRequest, defaultMaxTokens: number): { maxTokens: number; thinking?: Block } {
  const reasoning = request.reasoning;
  const maxTokens = request.maxTokens ?? defaultMaxTokens;
  if (!reasoning || !canThink(request)) return { maxTokens };
  const budget = reasoningBudget(reasoning);
  if (reasoning.budgetTokens !== null)
    return { maxTokens, thinking: { type: "enabled", budget_tokens: budget } };
  if (budget === 0) return { maxTokens, thinking: { type: "disabled" } };
  if (request.maxTokens === null)
    return { maxTokens: budget + defaultMaxTokens, thinking: { type: "enabled", budget_tokens: budget } };
  if (request.maxTokens <= minimumBudget)
    throw new GatewayError(
      "invalid_request",
      `max_tokens: the anthropic provider needs more than ${minimumBudget} tokens to reason (it thinks with at least ${minimumBudget}); raise it or set the reasoning effort to none`,
      { param: "max_tokens" },
    );
  return { maxTokens, thinking: { type: "enabled", budget_tokens: Math.min(budget, request.maxTokens - 1) } };
}

/**
 * In a tool loop Anthropic wants the last assistant turn to start with its signed thinking, when
 * thinking is on. Callers of APIs that cannot hand thinking back (Chat Completions) do not have it:
 * that one step then goes without thinking, rather than failing.
 */
function canThink(request: ChatRequest): boolean {
  const last = request.messages.findLast((message) => message.role === "assistant");
  if (!last?.content.some((part) => part.kind === "tool_call")) return true;
  return last.reasoning.some((part) => part.signature !== null || part.redactedData !== null);
}

/**
 * A message's content as blocks, with its earlier thinking put back where it was. Reasoning
 * another provider produced has no Anthropic signature, would be refused, and is left out.
 */
function blocksOf(message: ChatRequest["messages"][number]): Block[] {
  const blocks = message.content.map((part) => withCacheControl(toBlock(part), part));
  const thinking = message.reasoning.filter((part) => part.signature !== null || part.redactedData !== null);
  for (const part of [...thinking].reverse()) {
    const block =
      part.redactedData !== null
        ? { type: "redacted_thinking", data: part.redactedData }
        : { type: "thinking", thinking: part.text, signature: part.signature };
    blocks.splice(part.beforePart, 0, block);
  }
  return blocks;
}

function withCacheControl(block: Block, source: { cacheControlJson: string | null }): Block {
  return source.cacheControlJson === null
    ? block
    : { ...block, cache_control: JSON.parse(source.cacheControlJson) };
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
