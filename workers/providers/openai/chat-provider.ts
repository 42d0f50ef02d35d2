import { GatewayError } from "../../../schemas/errors.ts";
import type { HttpClient } from "../http/client.ts";
import { transportError } from "../http/client.ts";
import { providerHttpError } from "../http/errors.ts";
import { parseServerSentEvents } from "../http/sse.ts";
import type { ChatPart, Provider } from "../provider.ts";
import { type OpenAIDialect, toOpenAIChatBody } from "./request.ts";
import { chatCompletion, chatCompletionChunk, embeddingList, partsOf, usageOf } from "./response.ts";

/** Where one OpenAI-style service takes its calls, and how it wants them. */
export interface OpenAIStyleService {
  /** Name used in error messages. */
  name: string;
  http: HttpClient;
  headers: Record<string, string>;
  /** Path (with query) of a model's chat completions and embeddings. */
  chatPath(model: string): string;
  embeddingsPath(model: string): string;
  dialect: OpenAIDialect;
}

/**
 * A provider speaking OpenAI's Chat Completions and Embeddings wire format: OpenAI itself, Azure
 * OpenAI, and the OpenAI-compatible servers (vLLM, Ollama, llama.cpp, Groq, Together, Mistral,
 * DeepSeek …), which differ only in URLs, headers and a few dialect details.
 */
export function createOpenAIStyleProvider(service: OpenAIStyleService): Provider {
  const { http, headers, name } = service;
  return {
    async *chat(request, { model, signal, stream, inboundApi, traceHeaders }): AsyncIterable<ChatPart> {
      const body = toOpenAIChatBody(request, model, stream, inboundApi, service.dialect);
      const response = await http.post(
        service.chatPath(model),
        body,
        { ...headers, ...traceHeaders },
        signal,
      );
      if (response.status >= 400) throw await providerHttpError(name, response);
      if (!stream) {
        const completion = await chatCompletion.read(name, response, signal);
        yield { type: "response-metadata", model: completion.model ?? model };
        yield* partsOf(completion);
        return;
      }
      let metadataSent = false;
      try {
        for await (const event of parseServerSentEvents(response.body)) {
          if (event.data === "[DONE]") return;
          const chunk = chatCompletionChunk.parse(name, event.data);
          if (chunk.error) {
            const message = typeof chunk.error === "string" ? chunk.error : chunk.error.message;
            throw new GatewayError(
              "provider_error",
              `${name} failed mid-stream: ${message ?? "unknown error"}`,
            );
          }
          if (!metadataSent && chunk.model) {
            metadataSent = true;
            yield { type: "response-metadata", model: chunk.model };
          }
          yield* partsOf(chunk);
        }
      } catch (error) {
        if (error instanceof GatewayError) throw error;
        throw transportError(error, signal);
      }
    },

    async embed(request, { model, signal, traceHeaders }) {
      const body = {
        ...(service.dialect.sendModel && { model }),
        input: request.input,
        ...(request.dimensions !== null && { dimensions: request.dimensions }),
      };
      const response = await http.post(
        service.embeddingsPath(model),
        body,
        { ...headers, ...traceHeaders },
        signal,
      );
      if (response.status >= 400) throw await providerHttpError(name, response);
      const result = await embeddingList.read(name, response, signal);
      return {
        model: result.model ?? model,
        vectors: [...result.data].sort((a, b) => a.index - b.index).map((item) => item.embedding),
        usage: usageOf({ prompt_tokens: result.usage?.prompt_tokens ?? 0, completion_tokens: 0 }),
      };
    },
  };
}
