import { type AvroInput, type AvroType, nullable } from "./avro-type.ts";

export const finishReasons = ["stop", "length", "tool_calls", "content_filter"] as const;
/** How a count request's tokens were counted (the x-gateway-token-count header). */
export const tokenCounts = ["provider", "exact", "estimated"] as const;
export type TokenCount = (typeof tokenCounts)[number];

export const usageSchema = {
  type: "record",
  name: "Usage",
  fields: [
    { name: "inputTokens", type: "int" },
    { name: "outputTokens", type: "int" },
    {
      name: "cachedInputTokens",
      type: "int",
      default: 0,
      doc: "input tokens read from the provider's prompt cache",
    },
    {
      name: "cacheWriteTokens",
      type: "int",
      default: 0,
      doc: "input tokens written to the provider's prompt cache",
    },
    {
      name: "reasoningTokens",
      type: "int",
      default: 0,
      doc: "part of outputTokens spent on hidden reasoning",
    },
  ],
} as const;

export const failureSchema = {
  type: "record",
  name: "Failure",
  fields: [
    { name: "code", type: "string", doc: "one of the gateway's error codes (ingress/errors.ts)" },
    { name: "message", type: "string" },
    { name: "status", type: "int", doc: "HTTP status to answer with" },
    { name: "retryAfterMs", type: nullable("long"), default: null },
    {
      name: "param",
      type: nullable("string"),
      default: null,
      doc: "the request field at fault, if one is (v3)",
    },
  ],
} as const;

/**
 * What a worker sends back to the ingress holding the client, one event at a time, in order.
 * `attempt` names one execution of the request (a redelivered request gets a new attempt), so the
 * ingress never mixes the output of two executions. `kind` says which optional fields are set.
 */
export const replyEventSchema = {
  type: "record",
  name: "ReplyEvent",
  namespace: "gateway.v1",
  fields: [
    { name: "requestId", type: "string" },
    { name: "attempt", type: "string" },
    { name: "seq", type: "int", doc: "0, 1, 2 … within an attempt" },
    {
      name: "kind",
      type: {
        type: "enum",
        name: "ReplyKind",
        symbols: [
          "started",
          "text_delta",
          "tool_call_delta",
          "finish",
          "usage",
          "embedding",
          "heartbeat",
          "failed",
          "completed",
        ],
      },
    },
    { name: "choice", type: "int", default: 0 },
    { name: "text", type: nullable("string"), default: null, doc: "text_delta: a piece of the answer" },
    {
      name: "reasoning",
      type: nullable({
        type: "record",
        name: "ReasoningDelta",
        doc: "a block of reasoning starts with `text` or `redactedData` and ends with its `signature`, if it has one",
        fields: [
          { name: "text", type: "string", default: "" },
          { name: "signature", type: nullable("string"), default: null },
          { name: "redactedData", type: nullable("string"), default: null },
        ],
      }),
      default: null,
      doc: "text_delta: a piece of the model's reasoning instead of the answer; readers older than v3 see an empty text delta (v3)",
    },
    {
      name: "started",
      type: nullable({
        type: "record",
        name: "Started",
        fields: [
          { name: "workerId", type: "string" },
          { name: "provider", type: "string" },
          { name: "model", type: "string", doc: "the model the provider reports serving" },
        ],
      }),
      default: null,
      doc: "started: who took the request (sent while it is silent); usage: the call whose usage it is (v4)",
    },
    {
      name: "toolCall",
      type: nullable({
        type: "record",
        name: "ToolCallDelta",
        doc: "id and name come with the first delta of a call; the arguments arrive in pieces",
        fields: [
          { name: "index", type: "int" },
          { name: "id", type: nullable("string"), default: null },
          { name: "name", type: nullable("string"), default: null },
          { name: "argumentsDelta", type: "string", default: "" },
        ],
      }),
      default: null,
    },
    {
      name: "finishReason",
      type: nullable({ type: "enum", name: "FinishReason", symbols: finishReasons }),
      default: null,
    },
    {
      name: "stopSequence",
      type: nullable("string"),
      default: null,
      doc: "finish: which of the caller's stop sequences ended the answer, when the provider says (v2)",
    },
    { name: "usage", type: nullable(usageSchema), default: null },
    {
      name: "costNanoUsd",
      type: nullable("long"),
      default: null,
      doc: "usage: what the request's provider calls have cost so far, in 1e-9 USD; null: unpriced (v4)",
    },
    {
      name: "tokenCount",
      type: nullable({ type: "enum", name: "TokenCount", symbols: tokenCounts }),
      default: null,
      doc: "usage answering a count request: who counted its input tokens — the provider's counting API, OpenAI's tokenizer (exact), or the gateway's estimate (v5)",
    },
    { name: "embedding", type: nullable({ type: "array", items: "float" }), default: null },
    { name: "failure", type: nullable(failureSchema), default: null },
  ],
} as const;

export type ReplyEvent = AvroType<typeof replyEventSchema>;
/** A reply event as a worker writes it: fields with defaults may be left out. */
export type ReplyEventInput = AvroInput<typeof replyEventSchema>;
export type ReplyKind = ReplyEvent["kind"];
export type Usage = AvroType<typeof usageSchema>;

/** No tokens at all: a call that used none, or usage not known yet. */
export const zeroUsage: Usage = {
  inputTokens: 0,
  outputTokens: 0,
  cachedInputTokens: 0,
  cacheWriteTokens: 0,
  reasoningTokens: 0,
};

/** Usage under snake_case names: how the WebSocket protocol sends it and the analytics tables store it. */
export function snakeCaseUsage(usage: Usage) {
  return {
    input_tokens: usage.inputTokens,
    output_tokens: usage.outputTokens,
    cached_input_tokens: usage.cachedInputTokens,
    cache_write_tokens: usage.cacheWriteTokens,
    reasoning_tokens: usage.reasoningTokens,
  };
}
export type Failure = AvroType<typeof failureSchema>;
export type FinishReason = (typeof finishReasons)[number];
