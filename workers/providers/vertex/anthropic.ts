import type { ChatRequest, InboundApi } from "../../../schemas/request-envelope.ts";
import { anthropicAnswerParts } from "../anthropic/answer.ts";
import { toAnthropicBody, toAnthropicCountBody } from "../anthropic/request.ts";
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

/**
 * Claude's token count on Vertex: the `count-tokens` model's rawPredict, with Anthropic's
 * count_tokens body (the model named in it, unlike a call's) and the API version.
 */
export async function claudeCountTokens(
  vertex: VertexEndpoint,
  settings: ClaudeSettings,
  request: ChatRequest,
  { model, signal, inboundApi, traceHeaders }: CountOptions,
): Promise<number> {
  const body = {
    anthropic_version: settings.anthropicVersion,
    ...toAnthropicCountBody(request, model, inboundApi),
  };
  const response = await vertex.post("anthropic", "count-tokens", "rawPredict", body, traceHeaders, signal);
  if (response.status >= 400) throw await providerHttpError("vertex", response);
  return (await anthropicTokenCount.read("vertex", response, signal)).input_tokens;
}
