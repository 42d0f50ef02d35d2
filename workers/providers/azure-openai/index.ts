import { Type as T } from "@sinclair/typebox";
import { openAIServedEncodingOf } from "../../../schemas/token-count.ts";
import { connect, connectionOptions } from "../http/connection-options.ts";
import { createOpenAIStyleProvider } from "../openai/chat-provider.ts";
import { defineProviderType } from "../provider.ts";

/**
 * Azure OpenAI: a model is a deployment of the resource (a model entry's `model` names the
 * deployment), the key goes in the `api-key` header and every call names its `api-version`.
 */
export const azureOpenAIProvider = defineProviderType({
  optionsSchema: T.Object(
    {
      endpoint: T.String({
        minLength: 1,
        description: "The resource endpoint, e.g. https://my-resource.openai.azure.com.",
      }),
      apiKey: T.String({
        minLength: 1,
        description: "The resource key; give it through an environment variable.",
      }),
      apiVersion: T.String({ default: "2024-10-21", description: "The api-version query parameter." }),
      ...connectionOptions,
    },
    { additionalProperties: false },
  ),
  tokenizer: openAIServedEncodingOf,
  create(options) {
    const deploymentPath = (deployment: string, operation: string) =>
      `/openai/deployments/${encodeURIComponent(deployment)}/${operation}?api-version=${encodeURIComponent(options.apiVersion)}`;
    return createOpenAIStyleProvider({
      name: "azure-openai",
      http: connect(options.endpoint, options),
      headers: { "api-key": options.apiKey },
      chatPath: (deployment) => deploymentPath(deployment, "chat/completions"),
      embeddingsPath: (deployment) => deploymentPath(deployment, "embeddings"),
      dialect: { maxTokensField: "max_completion_tokens", streamUsage: true, sendModel: false },
    });
  },
});
