import type { ChatRequest, EmbeddingsRequest } from "../../../schemas/request-envelope.ts";
import { geminiAnswerParts } from "../gemini/answer.ts";
import { toGeminiBody } from "../gemini/request.ts";
import { providerHttpError } from "../http/errors.ts";
import type { CallOptions, ChatPart, CountOptions, EmbeddingsResult } from "../provider.ts";
import type { VertexEndpoint } from "./endpoint.ts";
import { geminiTokenCount, predictEmbeddings } from "./response.ts";

/**
 * Google's models on Vertex AI: Gemini's own wire format (the gemini adapter's translation), at
 * `publishers/google/models/{model}:generateContent` and `:streamGenerateContent?alt=sse`.
 */
export async function* googleChat(
  vertex: VertexEndpoint,
  request: ChatRequest,
  { model, signal, stream, traceHeaders }: CallOptions,
): AsyncIterable<ChatPart> {
  const method = stream ? "streamGenerateContent?alt=sse" : "generateContent";
  const response = await vertex.post("google", model, method, toGeminiBody(request), traceHeaders, signal);
  if (response.status >= 400) throw await providerHttpError("vertex", response);
  yield* geminiAnswerParts("vertex", response, request, { model, stream, signal });
}

/** Text embedding models (text-embedding-*, gemini-embedding-*) through `:predict`, one instance a text. */
export async function googleEmbed(
  vertex: VertexEndpoint,
  request: EmbeddingsRequest,
  { model, signal, traceHeaders }: CallOptions,
): Promise<EmbeddingsResult> {
  const body = {
    instances: request.input.map((content) => ({ content })),
    ...(request.dimensions !== null && { parameters: { outputDimensionality: request.dimensions } }),
  };
  const response = await vertex.post("google", model, "predict", body, traceHeaders, signal);
  if (response.status >= 400) throw await providerHttpError("vertex", response);
  const { predictions } = await predictEmbeddings.read("vertex", response, signal);
  const inputTokens = predictions.reduce(
    (sum, prediction) => sum + (prediction.embeddings.statistics?.token_count ?? 0),
    0,
  );
  return {
    model,
    vectors: predictions.map((prediction) => prediction.embeddings.values),
    usage: { inputTokens, outputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 },
  };
}

/** `:countTokens` of the request's contents, system instruction and tools: what its prompt costs. */
export async function googleCountTokens(
  vertex: VertexEndpoint,
  request: ChatRequest,
  { model, signal, traceHeaders }: CountOptions,
): Promise<number> {
  const { contents, systemInstruction, tools } = toGeminiBody(request);
  const body = { contents, ...(systemInstruction && { systemInstruction }), ...(tools && { tools }) };
  const response = await vertex.post("google", model, "countTokens", body, traceHeaders, signal);
  if (response.status >= 400) throw await providerHttpError("vertex", response);
  return (await geminiTokenCount.read("vertex", response, signal)).totalTokens;
}
