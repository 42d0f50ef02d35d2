import { Type as T } from "@sinclair/typebox";
import type { ChatRequest, InboundApi } from "../../../schemas/request-envelope.ts";
import { toAnthropicBody } from "../anthropic/request.ts";
import {
  AnthropicStreamMapper,
  anthropicMessage,
  anthropicStreamEvent,
  partsOfMessage,
} from "../anthropic/response.ts";
import type { HttpResponse } from "../http/client.ts";
import { ProviderData } from "../http/provider-data.ts";
import type { ChatPart } from "../provider.ts";
import { bedrockEvents } from "./event-stream.ts";

/** Anthropic's models: plain ids (`anthropic.claude-…`) and inference profiles (`us.anthropic.…`, `global.anthropic.…`). */
export const isAnthropicModel = (model: string) => /(^|\.)anthropic\./.test(model);

/**
 * The InvokeModel body of an Anthropic model: the Messages body the anthropic adapter builds, so
 * thinking, `cache_control` and tools keep their meaning, with the model in the URL instead, the
 * stream chosen by the endpoint, and Bedrock's `anthropic_version`.
 */
export function toInvokeBody(request: ChatRequest, inboundApi: InboundApi, defaultMaxTokens: number) {
  const {
    model: _model,
    stream: _stream,
    ...body
  } = toAnthropicBody(request, "", false, inboundApi, defaultMaxTokens);
  return { anthropic_version: "bedrock-2023-05-31", ...body };
}

/** InvokeModelWithResponseStream's `chunk` event: an Anthropic stream event, base64-encoded. */
const chunkEvent = new ProviderData("a stream chunk", T.Object({ bytes: T.String() }));

/** The parts of an InvokeModel answer: a whole Anthropic message, or a stream of its events in `chunk`s. */
export async function* anthropicParts(
  response: HttpResponse,
  stream: boolean,
  model: string,
  signal: AbortSignal,
): AsyncGenerator<ChatPart> {
  if (!stream) {
    const message = await anthropicMessage.read("bedrock", response, signal);
    yield { type: "response-metadata", model: message.model ?? model };
    yield* partsOfMessage(message);
    return;
  }
  const mapper = new AnthropicStreamMapper();
  for await (const event of bedrockEvents(response.body)) {
    if (event.type !== "chunk") continue;
    const { bytes } = chunkEvent.parse("bedrock", event.payload);
    yield* mapper.map(anthropicStreamEvent.parse("bedrock", Buffer.from(bytes, "base64").toString("utf8")));
  }
}
