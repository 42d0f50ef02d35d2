import { GatewayError } from "../../../schemas/errors.ts";
import { type HttpResponse, transportError } from "../http/client.ts";
import { parseServerSentEvents } from "../http/sse.ts";
import type { ChatPart } from "../provider.ts";
import { AnthropicStreamMapper, anthropicMessage, anthropicStreamEvent, partsOfMessage } from "./response.ts";

/**
 * A Messages answer (a whole message, or its stream of events) as parts: the one reader of every
 * service that speaks Anthropic's wire format (Anthropic's API, Claude on Vertex AI), `provider`
 * naming the service in errors.
 */
export async function* anthropicAnswerParts(
  provider: string,
  response: HttpResponse,
  options: { model: string; stream: boolean; signal: AbortSignal },
): AsyncIterable<ChatPart> {
  const { model, signal } = options;
  if (!options.stream) {
    const message = await anthropicMessage.read(provider, response, signal);
    yield { type: "response-metadata", model: message.model ?? model };
    yield* partsOfMessage(message);
    return;
  }
  const mapper = new AnthropicStreamMapper();
  try {
    for await (const event of parseServerSentEvents(response.body)) {
      yield* mapper.map(anthropicStreamEvent.parse(provider, event.data));
    }
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    throw transportError(error, signal);
  }
}
