import { type Static, Type as T } from "@sinclair/typebox";

const perMillion = (what: string) => T.Number({ minimum: 0, description: `USD per million ${what} tokens.` });

/** Prices above a prompt size, e.g. Gemini 2.5 Pro and Claude Sonnet past 200k input tokens. */
const longContextSchema = T.Object(
  {
    aboveInputTokens: T.Integer({
      minimum: 1,
      description: "These prices apply to the whole call when its prompt is longer than this.",
    }),
    input: perMillion("input"),
    output: perMillion("output"),
    cachedInput: T.Optional(perMillion("cached input (prompt-cache read)")),
    cacheWrite: T.Optional(perMillion("prompt-cache write")),
  },
  { additionalProperties: false },
);

/**
 * What one model costs at one provider, in USD per million tokens as the price pages write them.
 * Unset prices fall back: cached input and cache writes to `input`, reasoning to `output`.
 */
export const priceSchema = T.Object(
  {
    input: perMillion("input"),
    output: perMillion("output"),
    cachedInput: T.Optional(perMillion("cached input (prompt-cache read)")),
    cacheWrite: T.Optional(perMillion("prompt-cache write")),
    reasoning: T.Optional(perMillion("reasoning (billed as output when unset)")),
    batchDiscount: T.Optional(
      T.Number({
        minimum: 0,
        maximum: 1,
        description: "Share taken off every price for batch calls, e.g. 0.5.",
      }),
    ),
    longContext: T.Optional(longContextSchema),
  },
  { additionalProperties: false },
);

export type Price = Static<typeof priceSchema>;

/** Prices by provider type (`openai`, `anthropic`, …), then by the provider's model name. */
export const priceListSchema = T.Record(
  T.String({ minLength: 1 }),
  T.Record(T.String({ minLength: 1 }), priceSchema),
  {
    default: {},
    description:
      "Prices by provider type (or provider name), then model: added to or replacing the price file's.",
  },
);

export type PriceList = Static<typeof priceListSchema>;
