import { Type as T } from "@sinclair/typebox";
import { ProviderData } from "../http/provider-data.ts";

/** What the adapter reads of a text embedding model's `:predict` answer. */
export const predictEmbeddings = new ProviderData(
  "an embeddings response",
  T.Object({
    predictions: T.Array(
      T.Object({
        embeddings: T.Object({
          values: T.Array(T.Number()),
          statistics: T.Optional(T.Object({ token_count: T.Optional(T.Number()) })),
        }),
      }),
    ),
  }),
);

/** What it reads of a Gemini model's `:countTokens` answer. */
export const geminiTokenCount = new ProviderData(
  "a token count",
  T.Object({ totalTokens: T.Integer({ minimum: 0 }) }),
);

/** What it reads of Claude's count-tokens answer (Anthropic's count_tokens shape). */
export const anthropicTokenCount = new ProviderData(
  "a token count",
  T.Object({ input_tokens: T.Integer({ minimum: 0 }) }),
);
