import { Type as T } from "@sinclair/typebox";
import { connect, connectionOptions } from "../http/connection-options.ts";
import { providerHttpError } from "../http/errors.ts";
import { hidingSecret } from "../http/secret.ts";
import { type ChatPart, defineProviderType, type Provider } from "../provider.ts";
import { geminiAnswerParts } from "./answer.ts";
import { toGeminiBody } from "./request.ts";
import { countTokensResponse, embeddingsResponse } from "./response.ts";

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
        description: "The API key; give it through an environment variable.",
      }),
      apiKeyIn: T.Union([T.Literal("header"), T.Literal("query")], {
        default: "header",
        description:
          "Where the key goes: the x-goog-api-key header, or the key= query parameter (for proxies that want it there).",
      }),
      ...connectionOptions,
    },
    { additionalProperties: false },
  ),
  create(options) {
    const http = connect(options.baseUrl, options);
    const inQuery = options.apiKeyIn === "query";
    const headers: Record<string, string> = inQuery ? {} : { "x-goog-api-key": options.apiKey };
    const path = (model: string, method: string, query: Record<string, string> = {}) => {
      const search = new URLSearchParams({ ...query, ...(inQuery && { key: options.apiKey }) }).toString();
      return `/models/${encodeURIComponent(model)}:${method}${search ? `?${search}` : ""}`;
    };
    const provider: Provider = {
      async *chat(request, { model, signal, stream, traceHeaders }): AsyncIterable<ChatPart> {
        const body = toGeminiBody(request);
        const response = await http.post(
          stream ? path(model, "streamGenerateContent", { alt: "sse" }) : path(model, "generateContent"),
          body,
          { ...headers, ...traceHeaders },
          signal,
        );
        if (response.status >= 400) throw await providerHttpError("gemini", response);
        yield* geminiAnswerParts("gemini", response, request, { model, stream, signal });
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
    return hidingSecret(provider, options.apiKey);
  },
});
