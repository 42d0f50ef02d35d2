import { Type as T } from "@sinclair/typebox";
import { GatewayError } from "../../../schemas/errors.ts";
import { transportError } from "../http/client.ts";
import { connect, connectionOptions } from "../http/connection-options.ts";
import { ProviderData } from "../http/provider-data.ts";
import { type ChatPart, defineProviderType } from "../provider.ts";
import { toConverseBody } from "./converse-request.ts";
import { ConverseStreamMapper, converseResponse, partsOfConverse } from "./converse-response.ts";
import { credentialChain } from "./credentials.ts";
import { embedOnBedrock } from "./embeddings.ts";
import { bedrockHttpError } from "./errors.ts";
import { bedrockEvents } from "./event-stream.ts";
import { anthropicParts, isAnthropicModel, toInvokeBody } from "./invoke-anthropic.ts";
import { sigV4Signer } from "./signing.ts";

const optionalString = (description: string) => T.Optional(T.String({ minLength: 1, description }));

const countTokensResponse = new ProviderData("a token count", T.Object({ inputTokens: T.Integer() }));

/**
 * Amazon Bedrock's runtime API, signed with SigV4. Anthropic models go through InvokeModel in
 * Anthropic's own Messages body (thinking, cache_control and tools keep their meaning); every other
 * model through Converse. Streams come in AWS's binary event-stream framing.
 */
export const bedrockProvider = defineProviderType({
  optionsSchema: T.Object(
    {
      region: optionalString("The AWS region (us-east-1 …); else AWS_REGION. One of the two is required."),
      baseUrl: optionalString(
        "Runtime endpoint; default https://bedrock-runtime.{region}.amazonaws.com (a VPC endpoint, a proxy).",
      ),
      accessKeyId: optionalString("AWS access key id; give it through an environment variable."),
      secretAccessKey: optionalString("AWS secret access key; give it through an environment variable."),
      sessionToken: optionalString("Session token of temporary keys."),
      profile: optionalString("Profile of the shared credentials file; else AWS_PROFILE, else `default`."),
      roleArn: optionalString(
        "Role to assume: with webIdentityTokenFile by AssumeRoleWithWebIdentity; without it by AssumeRole, signed with the credentials found as if it were not set (keys, environment, profile, web identity).",
      ),
      externalId: optionalString("ExternalId for AssumeRole, when the role's trust policy asks for one."),
      durationSeconds: T.Integer({
        minimum: 900,
        maximum: 43_200,
        default: 3600,
        description:
          "Lifetime asked of an assumed role's credentials (within the role's maximum session duration); they are renewed five minutes before it ends.",
      }),
      webIdentityTokenFile: optionalString(
        "File holding the web identity token (else AWS_WEB_IDENTITY_TOKEN_FILE).",
      ),
      roleSessionName: T.String({
        minLength: 1,
        default: "ai-gateway",
        description: "Session name of the assumed role (AWS_ROLE_SESSION_NAME wins).",
      }),
      stsEndpoint: optionalString(
        "STS endpoint for assuming roles; else AWS_ENDPOINT_URL_STS, else the region's STS.",
      ),
      defaultMaxTokens: T.Integer({
        minimum: 1,
        default: 4096,
        description: "max_tokens for Anthropic models when the caller gave none (Anthropic requires one).",
      }),
      ...connectionOptions,
    },
    { additionalProperties: false },
  ),
  create(options) {
    const region = options.region ?? process.env.AWS_REGION;
    if (!region)
      throw new Error("provider type bedrock needs a region: set its `region` option or AWS_REGION");
    const credentials = credentialChain({ ...options, region });
    const http = connect(
      options.baseUrl ?? `https://bedrock-runtime.${region}.amazonaws.com`,
      options,
      sigV4Signer("bedrock", region, credentials),
    );
    const accept = { accept: "application/json" };
    /** POSTs to one of a model's actions; an error status is thrown as its gateway error. */
    const call = async (
      model: string,
      action: string,
      body: unknown,
      signal: AbortSignal,
      traceHeaders: Record<string, string> = {},
    ) => {
      const response = await http.post(
        `/model/${encodeURIComponent(model)}/${action}`,
        body,
        { ...accept, ...traceHeaders },
        signal,
      );
      if (response.status >= 400) throw await bedrockHttpError(response);
      return response;
    };

    return {
      async *chat(request, { model, signal, stream, inboundApi, traceHeaders }): AsyncIterable<ChatPart> {
        const anthropic = isAnthropicModel(model);
        const body = anthropic
          ? toInvokeBody(request, inboundApi, options.defaultMaxTokens)
          : toConverseBody(request);
        const action = anthropic
          ? stream
            ? "invoke-with-response-stream"
            : "invoke"
          : stream
            ? "converse-stream"
            : "converse";
        const response = await call(model, action, body, signal, traceHeaders);
        try {
          if (anthropic) {
            yield* anthropicParts(response, stream, model, signal);
            return;
          }
          yield { type: "response-metadata", model };
          if (!stream) {
            yield* partsOfConverse(await converseResponse.read("bedrock", response, signal));
            return;
          }
          const mapper = new ConverseStreamMapper();
          for await (const event of bedrockEvents(response.body))
            yield* mapper.map(event.type, event.payload);
        } catch (error) {
          if (error instanceof GatewayError) throw error;
          throw transportError(error, signal);
        }
      },

      embed(request, { model, signal, traceHeaders }) {
        return embedOnBedrock(
          request,
          model,
          (body) => call(model, "invoke", body, signal, traceHeaders),
          signal,
        );
      },

      /** Bedrock's CountTokens, given the body the call itself would send. */
      async countTokens(request, { model, signal, inboundApi, traceHeaders }) {
        const input = isAnthropicModel(model)
          ? {
              invokeModel: {
                body: JSON.stringify(toInvokeBody(request, inboundApi, options.defaultMaxTokens)),
              },
            }
          : { converse: converseInput(toConverseBody(request)) };
        const response = await call(model, "count-tokens", { input }, signal, traceHeaders);
        return (await countTokensResponse.read("bedrock", response, signal)).inputTokens;
      },
    };
  },
});

/** CountTokens' `converse` input takes the conversation and its tools, not the inference settings. */
function converseInput({ inferenceConfig: _settings, ...conversation }: ReturnType<typeof toConverseBody>) {
  return conversation;
}
