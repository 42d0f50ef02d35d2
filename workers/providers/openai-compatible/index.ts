import { Type as T } from "@sinclair/typebox";
import { openAIEncodingOf } from "../../../schemas/token-count.ts";
import { connect, connectionOptions } from "../http/connection-options.ts";
import { createOpenAIStyleProvider } from "../openai/chat-provider.ts";
import { defineProviderType } from "../provider.ts";

/** Any server with OpenAI's API at a base URL: vLLM, Ollama, llama.cpp, Groq, Together, Mistral, DeepSeek … */
export const openAICompatibleProvider = defineProviderType({
  optionsSchema: T.Object(
    {
      baseUrl: T.String({
        minLength: 1,
        description: "API base URL, e.g. http://vllm:8000/v1 or https://api.groq.com/openai/v1.",
      }),
      apiKey: T.Optional(
        T.String({ minLength: 1, description: "Sent as a Bearer token; local servers often need none." }),
      ),
      maxTokensField: T.Union([T.Literal("max_tokens"), T.Literal("max_completion_tokens")], {
        default: "max_tokens",
        description: "The name the server knows for the output limit.",
      }),
      streamUsage: T.Boolean({
        default: true,
        description:
          "Whether the server honours stream_options.include_usage; without it, streamed usage is estimated.",
      }),
      ...connectionOptions,
    },
    { additionalProperties: false },
  ),
  // Counted exactly only for a model named as OpenAI's: other servers' models have tokenizers of their own.
  tokenizer: openAIEncodingOf,
  create: (options) =>
    createOpenAIStyleProvider({
      name: "openai-compatible",
      http: connect(options.baseUrl, options),
      headers: options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {},
      chatPath: () => "/chat/completions",
      embeddingsPath: () => "/embeddings",
      dialect: { maxTokensField: options.maxTokensField, streamUsage: options.streamUsage, sendModel: true },
    }),
});
