import { type AvroInput, type AvroType, nullable } from "./avro-type.ts";
import { chatRequestSchema, embeddingsRequestSchema } from "./chat-request.ts";

export const priorities = ["interactive", "default", "batch"] as const;
export type Priority = (typeof priorities)[number];

/**
 * What the ingress publishes on a priority topic for each request: who asked, where the answer
 * goes, until when it is worth answering, and the request itself (exactly one of chat/embeddings).
 */
export const requestEnvelopeSchema = {
  type: "record",
  name: "RequestEnvelope",
  namespace: "gateway.v1",
  fields: [
    { name: "id", type: "string", doc: "request id (UUIDv7), also the Kafka key" },
    { name: "receivedAtMs", type: "long" },
    { name: "deadlineMs", type: "long", doc: "after this instant nobody waits for the answer" },
    { name: "priority", type: { type: "enum", name: "Priority", symbols: priorities } },
    { name: "replyTo", type: "string", doc: "the reply channel of the ingress instance holding the client" },
    {
      name: "inboundApi",
      type: {
        type: "enum",
        name: "InboundApi",
        symbols: ["openai_chat", "anthropic_messages", "openai_embeddings"],
      },
    },
    { name: "stream", type: "boolean" },
    {
      name: "caller",
      type: {
        type: "record",
        name: "Caller",
        fields: [
          { name: "keyId", type: "string", doc: "a non-secret id of the gateway key" },
          { name: "team", type: ["null", "string"], default: null },
          { name: "user", type: ["null", "string"], default: null },
          { name: "tags", type: { type: "map", values: "string" }, default: {} },
        ],
      },
    },
    {
      name: "routing",
      type: nullable({
        type: "record",
        name: "RoutingHints",
        doc: "what the caller asked of the deployment that serves it (x-gateway-min-quality, x-gateway-max-cost)",
        fields: [
          { name: "minQuality", type: nullable("double"), default: null },
          { name: "maxCostUsd", type: nullable("double"), default: null },
        ],
      }),
      default: null,
      doc: "(v2)",
    },
    {
      name: "cache",
      type: nullable("string"),
      default: null,
      doc: "what the ingress's answer cache did: miss | refresh (the answer will be stored) | bypass | unavailable (v2)",
    },
    { name: "chat", type: ["null", chatRequestSchema], default: null },
    { name: "embeddings", type: ["null", embeddingsRequestSchema], default: null },
    {
      name: "traceContext",
      type: { type: "map", values: "string" },
      default: {},
      doc: "W3C trace context (traceparent, tracestate) of the ingress's span, so the worker's spans join its trace (v3)",
    },
    {
      name: "batch",
      type: nullable({
        type: "record",
        name: "BatchLine",
        doc: "a line of a batch job: its answer goes to the batch results, not to a waiting client",
        fields: [
          { name: "batchId", type: "string" },
          { name: "line", type: "int", doc: "the line's index in the input file, from 0" },
        ],
      }),
      default: null,
      doc: "(v4)",
    },
    {
      name: "countTokens",
      type: "boolean",
      default: false,
      doc: "count the chat's input tokens instead of answering it: the answer is one usage event, and the chat's maxTokens is 1 so that a worker older than v5 answering it anyway bills next to nothing and still reports the input tokens (v5)",
    },
  ],
} as const;

export type RequestEnvelope = AvroType<typeof requestEnvelopeSchema>;
export type RequestEnvelopeInput = AvroInput<typeof requestEnvelopeSchema>;
export type ChatRequest = AvroType<typeof chatRequestSchema>;
export type EmbeddingsRequest = AvroType<typeof embeddingsRequestSchema>;
export type ChatMessage = ChatRequest["messages"][number];
export type ContentPart = ChatMessage["content"][number];
export type ReasoningPart = ChatMessage["reasoning"][number];
export type ReasoningEffort = NonNullable<NonNullable<ChatRequest["reasoning"]>["effort"]>;
export type InboundApi = RequestEnvelope["inboundApi"];

/** A content part with every optional field empty: spread it and set the fields of the part's kind. */
export const blankPart: ContentPart = {
  kind: "text",
  text: null,
  image: null,
  toolCallId: null,
  toolName: null,
  argumentsJson: null,
  isError: false,
  cacheControlJson: null,
};
