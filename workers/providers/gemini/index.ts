import { Type as T } from "@sinclair/typebox";
import { GatewayError } from "../../../schemas/errors.ts";
import { transportError } from "../http/client.ts";
import { connect, connectionOptions } from "../http/connection-options.ts";
import { providerHttpError } from "../http/errors.ts";
import { parseServerSentEvents } from "../http/sse.ts";
import { type ChatPart, defineProviderType } from "../provider.ts";
import { toGeminiBody } from "./request.ts";
import {
  countTokensResponse,
  embeddingsResponse,
  GeminiMapper,
  generateContentChunk,
  generateContentResponse,
} from "./response.ts";

/** Google's Gemini API: generateContent, streamGenerateContent (SSE), countTokens and batchEmbedContents. */
export const geminiProvider = defineProviderType({
  optionsSchema: T.Object(
    {
      baseUrl: T.String({
        default: "https://generativelanguage.googleapis.com/v1beta",
        description: "API base URL, up to and including the version.",
      }),
      apiKey: T.String({
        minLength: 1,
        description: "Sent in the x-goog-api-key header; give it through an environment variable.",
      }),
      ...connectionOptions,
    },
    { additionalProperties: false },
  ),
  create(options) {
    const http = connect(options.baseUrl, options);
    const headers = { "x-goog-api-key": options.apiKey };
    const path = (model: string, method: string) => `/models/${encodeURIComponent(model)}:${method}`;
    return {
      async *chat(request, { model, signal, stream, traceHeaders }): AsyncIterable<ChatPart> {
        const body = toGeminiBody(request);
        const mapper = new GeminiMapper(request.toolChoice?.parallel === false);
        const response = await http.post(
          path(model, stream ? "streamGenerateContent?alt=sse" : "generateContent"),
          body,
          { ...headers, ...traceHeaders },
          signal,
        );
        if (response.status >= 400) throw await providerHttpError("gemini", response);
        if (!stream) {
          const whole = await generateContentResponse.read("gemini", response, signal);
          yield { type: "response-metadata", model: whole.modelVersion ?? model };
          yield* mapper.map(whole, true);
          return;
        }
        let first = true;
        try {
          for await (const event of parseServerSentEvents(response.body)) {
            const chunk = generateContentChunk.parse("gemini", event.data);
            if (chunk.error)
              throw new GatewayError(
                "provider_error",
                `gemini failed mid-stream: ${chunk.error.message ?? "unknown error"}`,
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
      },

      async countTokens(request, { model, signal, traceHeaders }) {
        // The whole request, so that its system instruction and tools are counted too (contents alone are not).
        const body = { generateContentRequest: { model: `models/${model}`, ...toGeminiBody(request) } };
        const response = await http.post(
          path(model, "countTokens"),
          body,
          { ...headers, ...traceHeaders },
          signal,
        );
        if (response.status >= 400) throw await providerHttpError("gemini", response);
        return (await countTokensResponse.read("gemini", response, signal)).totalTokens;
      },

      async embed(request, { model, signal, traceHeaders }) {
        const body = {
          requests: request.input.map((text) => ({
            model: `models/${model}`,
            content: { parts: [{ text }] },
            ...(request.dimensions !== null && { outputDimensionality: request.dimensions }),
          })),
        };
        const response = await http.post(
          path(model, "batchEmbedContents"),
          body,
          { ...headers, ...traceHeaders },
          signal,
        );
        if (response.status >= 400) throw await providerHttpError("gemini", response);
        const result = await embeddingsResponse.read("gemini", response, signal);
        // Gemini reports no token count for embeddings: estimated at four characters a token.
        const inputTokens = request.input.reduce((sum, text) => sum + Math.ceil(text.length / 4), 0);
        return {
          model,
          vectors: result.embeddings.map((embedding) => embedding.values),
          usage: {
            inputTokens,
            outputTokens: 0,
            cachedInputTokens: 0,
            cacheWriteTokens: 0,
            reasoningTokens: 0,
          },
        };
      },
    };
  },
});
