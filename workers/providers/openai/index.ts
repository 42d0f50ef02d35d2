import { Type as T } from "@sinclair/typebox";
import { openAIServedEncodingOf } from "../../../schemas/token-count.ts";
import { connect, connectionOptions } from "../http/connection-options.ts";
import { defineProviderType } from "../provider.ts";
import { createOpenAIStyleProvider } from "./chat-provider.ts";

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
      ...connectionOptions,
    },
    { additionalProperties: false },
  ),
  tokenizer: openAIServedEncodingOf,
  create: (options) =>
    createOpenAIStyleProvider({
      name: "openai",
      http: connect(options.baseUrl, options),
      headers: {
        authorization: `Bearer ${options.apiKey}`,
        ...(options.organization && { "openai-organization": options.organization }),
      },
      chatPath: () => "/chat/completions",
      embeddingsPath: () => "/embeddings",
      dialect: { maxTokensField: "max_completion_tokens", streamUsage: true, sendModel: true },
    }),
});
