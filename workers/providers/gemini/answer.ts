import { GatewayError } from "../../../schemas/errors.ts";
import type { ChatRequest } from "../../../schemas/request-envelope.ts";
import { type HttpResponse, transportError } from "../http/client.ts";
import { parseServerSentEvents } from "../http/sse.ts";
import type { ChatPart } from "../provider.ts";
import { GeminiMapper, generateContentChunk, generateContentResponse } from "./response.ts";

/**
 * A generateContent answer (whole, or streamed with `alt=sse`) as parts: the one reader of every
 * service that speaks Gemini's wire format (Google AI's Gemini API, Vertex AI), `provider` naming
 * the service in errors.
 */
export async function* geminiAnswerParts(
  provider: string,
  response: HttpResponse,
  request: ChatRequest,
  options: { model: string; stream: boolean; signal: AbortSignal },
): AsyncIterable<ChatPart> {
  const { model, signal } = options;
  const mapper = new GeminiMapper(request.toolChoice?.parallel === false);
  if (!options.stream) {
    const whole = await generateContentResponse.read(provider, response, signal);
    yield { type: "response-metadata", model: whole.modelVersion ?? model };
    yield* mapper.map(whole, true);
    return;
  }
  let first = true;
  try {
    for await (const event of parseServerSentEvents(response.body)) {
      const chunk = generateContentChunk.parse(provider, event.data);
      if (chunk.error)
        throw new GatewayError(
          "provider_error",
          `${provider} failed mid-stream: ${chunk.error.message ?? "unknown error"}`,
        );
      if (first && chunk.modelVersion) yield { type: "response-metadata", model: chunk.modelVersion };
      first = false;
      yield* mapper.map(chunk, false);
    }
    yield* mapper.map({}, true);
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    throw transportError(error, signal);
  }
}
