import { type Static, Type as T } from "@sinclair/typebox";
import { avroIntegers } from "../../../schemas/avro-type.ts";
import { GatewayError } from "../../../schemas/errors.ts";
import type { InboundApi } from "../api.ts";

const embeddingsBody = T.Object({
  model: T.String({ minLength: 1 }),
  input: T.Union([T.String(), T.Array(T.String(), { minItems: 1, maxItems: 2048 })], {
    description: "expected a string or an array of strings",
  }),
  encoding_format: T.Optional(
    T.Union([T.Literal("float"), T.Literal("base64")], { description: 'expected "float" or "base64"' }),
  ),
  dimensions: T.Optional(T.Integer({ minimum: 1, maximum: avroIntegers.int.maximum })),
  user: T.Optional(T.String()),
});

type EmbeddingsBody = Static<typeof embeddingsBody>;

/** Little-endian float32, base64: what the OpenAI SDKs ask for by default and decode. */
function toBase64(vector: number[]): string {
  return Buffer.from(new Float32Array(vector).buffer).toString("base64");
}

export const openAIEmbeddings: InboundApi<EmbeddingsBody> = {
  name: "openai_embeddings",
  wire: "openai_embeddings",
  group: "embeddings",
  path: "/v1/embeddings",
  shape: "openai",
  bodySchema: embeddingsBody,
  streams: false,
  parse(body) {
    const input = typeof body.input === "string" ? [body.input] : body.input;
    if (input.some((text) => text === "")) {
      throw new GatewayError("invalid_request", "input: must not contain empty strings", { param: "input" });
    }
    return {
      model: body.model,
      stream: false,
      embeddings: { model: body.model, input, dimensions: body.dimensions ?? null },
      user: body.user,
      render: { base64Embeddings: body.encoding_format === "base64" },
    };
  },
  respond(completion, context) {
    return {
      object: "list",
      data: completion.embeddings.map((vector, index) => ({
        object: "embedding",
        index,
        embedding: context.options.base64Embeddings ? toBase64(vector) : vector,
      })),
      model: context.model,
      usage: { prompt_tokens: completion.usage.inputTokens, total_tokens: completion.usage.inputTokens },
    };
  },
  streamRenderer() {
    throw new GatewayError("invalid_request", "embeddings cannot be streamed");
  },
};
