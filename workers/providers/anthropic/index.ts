import { Type as T } from "@sinclair/typebox";
import { GatewayError } from "../../../schemas/errors.ts";
import { connect, connectionOptions } from "../http/connection-options.ts";
import { providerHttpError } from "../http/errors.ts";
import { type ChatPart, defineProviderType } from "../provider.ts";
import { anthropicAnswerParts } from "./answer.ts";
import { toAnthropicBody, toAnthropicCountBody } from "./request.ts";
import { anthropicTokenCount } from "./response.ts";

/** Anthropic's Messages API, and its count_tokens. */
export const anthropicProvider = defineProviderType({
  optionsSchema: T.Object(
    {
      baseUrl: T.String({ default: "https://api.anthropic.com", description: "API base URL (without /v1)." }),
      apiKey: T.String({
        minLength: 1,
        description: "The provider key; give it through an environment variable.",
      }),
      version: T.String({ default: "2023-06-01", description: "The anthropic-version header." }),
      defaultMaxTokens: T.Integer({
        minimum: 1,
        default: 4096,
        description: "max_tokens when the caller gave none (Anthropic requires one).",
      }),
      ...connectionOptions,
    },
    { additionalProperties: false },
  ),
  create(options) {
    const http = connect(options.baseUrl, options);
    const headers = { "x-api-key": options.apiKey, "anthropic-version": options.version };
    return {
      async *chat(request, { model, signal, stream, inboundApi, traceHeaders }): AsyncIterable<ChatPart> {
        const body = toAnthropicBody(request, model, stream, inboundApi, options.defaultMaxTokens);
        const response = await http.post("/v1/messages", body, { ...headers, ...traceHeaders }, signal);
        if (response.status >= 400) throw await providerHttpError("anthropic", response);
        yield* anthropicAnswerParts("anthropic", response, { model, stream, signal });
      },
      async countTokens(request, { model, signal, inboundApi, traceHeaders }) {
        const body = toAnthropicCountBody(request, model, inboundApi);
        const response = await http.post(
          "/v1/messages/count_tokens",
          body,
          { ...headers, ...traceHeaders },
          signal,
        );
        if (response.status >= 400) throw await providerHttpError("anthropic", response);
        return (await anthropicTokenCount.read("anthropic", response, signal)).input_tokens;
      },
      async embed() {
        throw new GatewayError("invalid_request", "model: the anthropic provider has no embeddings API", {
          param: "model",
        });
      },
    };
  },
});
