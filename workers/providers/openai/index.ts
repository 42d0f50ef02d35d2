import { Type as T } from "@sinclair/typebox";
import { GatewayError } from "../../../schemas/errors.ts";
import { createHttpClient, transportError } from "../http/client.ts";
import { providerHttpError } from "../http/errors.ts";
import { parseServerSentEvents } from "../http/sse.ts";
import { type ChatPart, defineProviderType } from "../provider.ts";
import { toOpenAIChatBody } from "./request.ts";
import { type OpenAIChatCompletion, partsOf, usageOf } from "./response.ts";

/** OpenAI's Chat Completions and Embeddings APIs. */
export const openAIProvider = defineProviderType({
  optionsSchema: T.Object(
    {
      baseUrl: T.String({
        default: "https://api.openai.com/v1",
        description: "API base URL, up to and including /v1.",
      }),
      apiKey: T.String({
        minLength: 1,
        description: "The provider key; give it through an environment variable.",
      }),
      organization: T.Optional(T.String({ description: "OpenAI-Organization header." })),
      maxConnections: T.Integer({
        minimum: 1,
        default: 256,
        description: "Keep-alive connections per worker process.",
      }),
      connectTimeoutMs: T.Integer({ minimum: 100, default: 5_000 }),
      firstByteTimeoutMs: T.Integer({
        minimum: 100,
        default: 120_000,
        description: "Longest wait for the provider to start answering.",
      }),
      idleTimeoutMs: T.Integer({
        minimum: 100,
        default: 120_000,
        description: "Longest silence inside a streamed answer.",
      }),
    },
    { additionalProperties: false },
  ),
  create(options) {
    const http = createHttpClient(options.baseUrl, {
      connections: options.maxConnections,
      connectTimeoutMs: options.connectTimeoutMs,
      headersTimeoutMs: options.firstByteTimeoutMs,
      bodyTimeoutMs: options.idleTimeoutMs,
    });
    const headers = {
      authorization: `Bearer ${options.apiKey}`,
      ...(options.organization && { "openai-organization": options.organization }),
    };
    return {
      async *chat(request, { model, signal, stream, inboundApi }): AsyncIterable<ChatPart> {
        const response = await http.post(
          "/chat/completions",
          toOpenAIChatBody(request, model, stream, inboundApi),
          headers,
          signal,
        );
        if (response.status >= 400) throw await providerHttpError("openai", response);
        if (!stream) {
          const completion = (await response.body.json()) as OpenAIChatCompletion;
          yield { type: "response-metadata", model: completion.model ?? model };
          yield* partsOf(completion);
          return;
        }
        let metadataSent = false;
        try {
          for await (const event of parseServerSentEvents(response.body)) {
            if (event.data === "[DONE]") return;
            const chunk = JSON.parse(event.data) as OpenAIChatCompletion & { error?: { message?: string } };
            if (chunk.error)
              throw new GatewayError(
                "provider_error",
                `openai failed mid-stream: ${chunk.error.message ?? "unknown error"}`,
              );
            if (!metadataSent && chunk.model) {
              metadataSent = true;
              yield { type: "response-metadata", model: chunk.model };
            }
            yield* partsOf(chunk);
          }
        } catch (error) {
          if (error instanceof GatewayError || error instanceof SyntaxError) throw error;
          throw transportError(error, signal);
        }
      },

      async embed(request, { model, signal }) {
        const body = {
          model,
          input: request.input,
          ...(request.dimensions !== null && { dimensions: request.dimensions }),
        };
        const response = await http.post("/embeddings", body, headers, signal);
        if (response.status >= 400) throw await providerHttpError("openai", response);
        const result = (await response.body.json()) as {
          model?: string;
          data: Array<{ index: number; embedding: number[] }>;
          usage?: { prompt_tokens?: number };
        };
        return {
          model: result.model ?? model,
          vectors: [...result.data].sort((a, b) => a.index - b.index).map((item) => item.embedding),
          usage: usageOf({ prompt_tokens: result.usage?.prompt_tokens ?? 0, completion_tokens: 0 }),
        };
      },
    };
  },
});
