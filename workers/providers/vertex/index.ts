import { Type as T } from "@sinclair/typebox";
import { GatewayError } from "../../../schemas/errors.ts";
import { connect, connectionOptions } from "../http/connection-options.ts";
import { defineProviderType } from "../provider.ts";
import { fixedAccessToken, serviceAccountTokens } from "./access-tokens.ts";
import { claudeChat, claudeCountTokens } from "./anthropic.ts";
import { publisherOf, vertexBaseUrl, vertexEndpoint } from "./endpoint.ts";
import { googleChat, googleCountTokens, googleEmbed } from "./google.ts";
import { loadServiceAccount } from "./service-account.ts";

/**
 * Google Cloud's Vertex AI: Gemini models in Gemini's wire format, Claude models in Anthropic's
 * Messages format (rawPredict), text embedding models through predict, and both publishers' token
 * counting; authenticated with OAuth access tokens of a service account (or one given as it is).
 */
export const vertexProvider = defineProviderType({
  optionsSchema: T.Object(
    {
      project: T.String({ minLength: 1, description: "The Google Cloud project ID." }),
      location: T.String({
        minLength: 1,
        default: "us-central1",
        description: "The region (e.g. europe-west4), or `global` for the global endpoint.",
      }),
      baseUrl: T.Optional(
        T.String({
          description:
            "API base URL (without /v1); by default https://{location}-aiplatform.googleapis.com, or https://aiplatform.googleapis.com for `global`.",
        }),
      ),
      serviceAccount: T.Optional(
        T.String({
          minLength: 1,
          description:
            "A service account's JSON key: the JSON itself (through an environment variable) or the file's path. Without it and accessToken, GOOGLE_APPLICATION_CREDENTIALS names the file.",
        }),
      ),
      accessToken: T.Optional(
        T.String({
          minLength: 1,
          description:
            "An OAuth access token used as it is (e.g. from `gcloud auth print-access-token`); it is never refreshed.",
        }),
      ),
      anthropicVersion: T.String({
        default: "vertex-2023-10-16",
        description: "The anthropic_version sent in the body of Claude calls.",
      }),
      defaultMaxTokens: T.Integer({
        minimum: 1,
        default: 4096,
        description: "max_tokens of a Claude call when the caller gave none (Anthropic requires one).",
      }),
      ...connectionOptions,
    },
    { additionalProperties: false },
  ),
  create(options) {
    const tokens = options.accessToken
      ? fixedAccessToken(options.accessToken)
      : serviceAccountTokens(loadServiceAccount(options.serviceAccount), options);
    const http = connect(options.baseUrl ?? vertexBaseUrl(options.location), options);
    const vertex = vertexEndpoint(http, tokens, options.project, options.location);
    return {
      chat: (request, call) =>
        publisherOf(call.model) === "anthropic"
          ? claudeChat(vertex, options, request, call)
          : googleChat(vertex, request, call),
      async embed(request, call) {
        if (publisherOf(call.model) === "anthropic")
          throw new GatewayError("invalid_request", "model: Claude models on vertex have no embeddings", {
            param: "model",
          });
        return googleEmbed(vertex, request, call);
      },
      countTokens: (request, call) =>
        publisherOf(call.model) === "anthropic"
          ? claudeCountTokens(vertex, options, request, call)
          : googleCountTokens(vertex, request, call),
    };
  },
});
