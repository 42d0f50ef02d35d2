import { Type as T } from "@sinclair/typebox";
import { GatewayError } from "../../../schemas/errors.ts";
import type { EmbeddingsRequest } from "../../../schemas/request-envelope.ts";
import type { HttpResponse } from "../http/client.ts";
import { ProviderData } from "../http/provider-data.ts";
import type { EmbeddingsResult } from "../provider.ts";

const titanResponse = new ProviderData(
  "an embedding",
  T.Object({ embedding: T.Array(T.Number()), inputTextTokenCount: T.Optional(T.Number()) }),
);
const cohereResponse = new ProviderData("embeddings", T.Object({ embeddings: T.Array(T.Array(T.Number())) }));

/** Sends one InvokeModel body and answers its response when it succeeded (the caller maps errors). */
export type Invoke = (body: Record<string, unknown>) => Promise<HttpResponse>;

/**
 * Embeddings through InvokeModel, in the two families' own bodies. Titan embeds one text a call:
 * the texts go as parallel calls. Cohere takes them all at once and reports its token count only
 * in Bedrock's `x-amzn-bedrock-input-token-count` header.
 */
export async function embedOnBedrock(
  request: EmbeddingsRequest,
  model: string,
  invoke: Invoke,
  signal: AbortSignal,
): Promise<EmbeddingsResult> {
  if (/(^|\.)amazon\.titan-embed/.test(model)) {
    const answers = await Promise.all(
      request.input.map(async (inputText) => {
        const body = { inputText, ...(request.dimensions !== null && { dimensions: request.dimensions }) };
        return titanResponse.read("bedrock", await invoke(body), signal);
      }),
    );
    const inputTokens = answers.reduce((sum, answer) => sum + (answer.inputTextTokenCount ?? 0), 0);
    return { model, vectors: answers.map((answer) => answer.embedding), usage: usageOf(inputTokens) };
  }
  if (/(^|\.)cohere\.embed/.test(model)) {
    if (request.dimensions !== null)
      throw new GatewayError(
        "invalid_request",
        "dimensions: Cohere's embedding models on bedrock have a fixed size",
        {
          param: "dimensions",
        },
      );
    const response = await invoke({ texts: request.input, input_type: "search_document" });
    const answer = await cohereResponse.read("bedrock", response, signal);
    const counted = Number(response.headers["x-amzn-bedrock-input-token-count"]);
    return { model, vectors: answer.embeddings, usage: usageOf(Number.isFinite(counted) ? counted : 0) };
  }
  throw new GatewayError(
    "invalid_request",
    `model: bedrock embeds with Amazon Titan (amazon.titan-embed-…) and Cohere (cohere.embed-…) models, not ${model}`,
    { param: "model" },
  );
}

const usageOf = (inputTokens: number) => ({
  inputTokens,
  outputTokens: 0,
  cachedInputTokens: 0,
  cacheWriteTokens: 0,
  reasoningTokens: 0,
});
