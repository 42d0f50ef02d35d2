import type { ChatRequest, InboundApi } from "../../../schemas/request-envelope.ts";
import { anthropicAnswerParts } from "../anthropic/answer.ts";
import { toAnthropicBody } from "../anthropic/request.ts";
import { providerHttpError } from "../http/errors.ts";
import type { CallOptions, ChatPart, CountOptions } from "../provider.ts";
import type { VertexEndpoint } from "./endpoint.ts";
import { anthropicTokenCount } from "./response.ts";

/** What Claude on Vertex needs of the provider's options. */
export interface ClaudeSettings {
  anthropicVersion: string;
  defaultMaxTokens: number;
}

/**
 * A Messages body for Claude on Vertex: the anthropic adapter's, with the API version in the body
 * (Vertex takes no anthropic-version header) and without `model`, which the URL names.
 */
function toVertexMessagesBody(
  request: ChatRequest,
  model: string,
  stream: boolean,
  inboundApi: InboundApi,
  settings: ClaudeSettings,
) {
  const { model: _inUrl, ...body } = toAnthropicBody(
    request,
    model,
    stream,
    inboundApi,
    settings.defaultMaxTokens,
  );
  return { anthropic_version: settings.anthropicVersion, ...body };
}

/** Claude on Vertex: `publishers/anthropic/models/{model}:rawPredict`, or `:streamRawPredict` for its event stream. */
export async function* claudeChat(
  vertex: VertexEndpoint,
  settings: ClaudeSettings,
  request: ChatRequest,
  { model, signal, stream, inboundApi, traceHeaders }: CallOptions,
): AsyncIterable<ChatPart> {
  const body = toVertexMessagesBody(request, model, stream, inboundApi, settings);
  const method = stream ? "streamRawPredict" : "rawPredict";
  const response = await vertex.post("anthropic", model, method, body, traceHeaders, signal);
  if (response.status >= 400) throw await providerHttpError("vertex", response);
  yield* anthropicAnswerParts("vertex", response, { model, stream, signal });
}

/** The fields of a Messages body that Anthropic's token counting takes (it refuses the others, max_tokens among them). */
const countedFields = ["messages", "system", "tools", "tool_choice", "thinking"] as const;

/**
 * Claude's token count on Vertex: the `count-tokens` model's rawPredict, with the Messages body
 * and, unlike a call, the model named in it.
 */
export async function claudeCountTokens(
  vertex: VertexEndpoint,
  settings: ClaudeSettings,
  request: ChatRequest,
  { model, signal, inboundApi, traceHeaders }: CountOptions,
): Promise<number> {
  const messagesBody: Record<string, unknown> = toVertexMessagesBody(
    request,
    model,
    false,
    inboundApi,
    settings,
  );
  const body: Record<string, unknown> = { anthropic_version: settings.anthropicVersion, model };
  for (const field of countedFields) if (messagesBody[field] !== undefined) body[field] = messagesBody[field];
  const response = await vertex.post("anthropic", "count-tokens", "rawPredict", body, traceHeaders, signal);
  if (response.status >= 400) throw await providerHttpError("vertex", response);
  return (await anthropicTokenCount.read("vertex", response, signal)).input_tokens;
}
