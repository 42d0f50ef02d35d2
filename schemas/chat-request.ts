import { nullable } from "./avro-type.ts";
/**
 * The gateway's own description of a chat request: what the ingress makes of an OpenAI Chat
 * Completions or Anthropic Messages call, and what every provider adapter translates from. Fields
 * of JSON Schema or free JSON (tool parameters, response schemas, unmodelled options) travel as
 * JSON text, because Avro has no type for arbitrary JSON.
 */

export const imagePartSchema = {
  type: "record",
  name: "Image",
  doc: "Either a URL (http(s) or data:) or inline bytes with their media type.",
  fields: [
    { name: "url", type: nullable("string"), default: null },
    { name: "data", type: nullable("bytes"), default: null },
    { name: "mediaType", type: nullable("string"), default: null },
    { name: "detail", type: nullable("string"), default: null },
  ],
} as const;

export const contentPartSchema = {
  type: "record",
  name: "ContentPart",
  doc: "One part of a message; `kind` says which of the optional fields is set.",
  fields: [
    {
      name: "kind",
      type: { type: "enum", name: "ContentKind", symbols: ["text", "image", "tool_call", "tool_result"] },
    },
    { name: "text", type: nullable("string"), default: null, doc: "text; the result text of tool_result" },
    { name: "image", type: nullable(imagePartSchema), default: null },
    { name: "toolCallId", type: nullable("string"), default: null, doc: "tool_call and tool_result" },
    { name: "toolName", type: nullable("string"), default: null, doc: "tool_call" },
    {
      name: "argumentsJson",
      type: nullable("string"),
      default: null,
      doc: "tool_call, as the model wrote it",
    },
    { name: "isError", type: "boolean", default: false, doc: "tool_result" },
    {
      name: "cacheControlJson",
      type: nullable("string"),
      default: null,
      doc: "the caller's Anthropic cache_control marker on this block, verbatim, for providers with explicit prompt caching (v2)",
    },
  ],
} as const;

/**
 * A provider's reasoning from an earlier assistant turn, as the caller sends it back. It is not
 * content: only the provider that produced it can read it (Anthropic verifies the signature), so it
 * travels beside the content, and adapters of other providers leave it out.
 */
export const reasoningPartSchema = {
  type: "record",
  name: "ReasoningPart",
  fields: [
    {
      name: "beforePart",
      type: "int",
      doc: "index of the content part it came before; content.length = after all",
    },
    { name: "text", type: "string", default: "", doc: "the reasoning text (empty when redacted)" },
    {
      name: "signature",
      type: nullable("string"),
      default: null,
      doc: "Anthropic's signature of the thinking block",
    },
    {
      name: "redactedData",
      type: nullable("string"),
      default: null,
      doc: "set for an Anthropic redacted_thinking block: its encrypted data",
    },
  ],
} as const;

/** Low to high as OpenAI names it; an effort a reader does not know yet reads as `medium`. */
export const reasoningEfforts = ["none", "minimal", "low", "medium", "high", "xhigh"] as const;

export const chatRequestSchema = {
  type: "record",
  name: "ChatRequest",
  fields: [
    { name: "model", type: "string", doc: "the public model name the caller asked for" },
    {
      name: "messages",
      type: {
        type: "array",
        items: {
          type: "record",
          name: "Message",
          fields: [
            {
              name: "role",
              type: {
                type: "enum",
                name: "Role",
                symbols: ["system", "developer", "user", "assistant", "tool"],
              },
              doc: "system and developer messages keep their place; adapters of providers with one system prompt gather them",
            },
            { name: "content", type: { type: "array", items: contentPartSchema } },
            { name: "name", type: nullable("string"), default: null },
            {
              name: "reasoning",
              type: { type: "array", items: reasoningPartSchema },
              default: [],
              doc: "assistant messages: the provider's reasoning sent back by the caller (v2)",
            },
          ],
        },
      },
    },
    {
      name: "tools",
      type: {
        type: "array",
        items: {
          type: "record",
          name: "Tool",
          fields: [
            { name: "name", type: "string" },
            { name: "description", type: nullable("string"), default: null },
            { name: "parametersJson", type: "string", doc: "JSON Schema of the arguments" },
            {
              name: "cacheControlJson",
              type: nullable("string"),
              default: null,
              doc: "as on content parts (v2)",
            },
          ],
        },
      },
      default: [],
    },
    {
      name: "toolChoice",
      type: nullable({
        type: "record",
        name: "ToolChoice",
        fields: [
          {
            name: "mode",
            type: { type: "enum", name: "ToolChoiceMode", symbols: ["auto", "none", "required", "tool"] },
          },
          { name: "toolName", type: nullable("string"), default: null },
          { name: "parallel", type: nullable("boolean"), default: null },
        ],
      }),
      default: null,
    },
    { name: "temperature", type: nullable("double"), default: null },
    { name: "topP", type: nullable("double"), default: null },
    {
      name: "reasoning",
      type: nullable({
        type: "record",
        name: "ReasoningRequest",
        doc: "how hard the model should think: an effort (OpenAI's words) or a token budget (Anthropic's, Gemini's); adapters map one to the other",
        fields: [
          {
            name: "effort",
            type: nullable({
              type: "enum",
              name: "ReasoningEffort",
              symbols: reasoningEfforts,
              default: "medium",
            }),
            default: null,
          },
          { name: "budgetTokens", type: nullable("int"), default: null },
        ],
      }),
      default: null,
      doc: "null: the provider's default (v2)",
    },
    { name: "maxTokens", type: nullable("int"), default: null },
    { name: "stop", type: { type: "array", items: "string" }, default: [] },
    { name: "seed", type: nullable("long"), default: null },
    { name: "n", type: "int", default: 1 },
    {
      name: "responseFormat",
      type: nullable({
        type: "record",
        name: "ResponseFormat",
        fields: [
          {
            name: "type",
            type: {
              type: "enum",
              name: "ResponseFormatType",
              symbols: ["text", "json_object", "json_schema"],
            },
          },
          { name: "schemaName", type: nullable("string"), default: null },
          { name: "schemaJson", type: nullable("string"), default: null },
          { name: "strict", type: nullable("boolean"), default: null },
        ],
      }),
      default: null,
    },
    {
      name: "extraJson",
      type: nullable("string"),
      default: null,
      doc: "options of the inbound API that the gateway does not model, kept verbatim for a provider speaking that API",
    },
  ],
} as const;

export const embeddingsRequestSchema = {
  type: "record",
  name: "EmbeddingsRequest",
  fields: [
    { name: "model", type: "string" },
    { name: "input", type: { type: "array", items: "string" } },
    { name: "dimensions", type: nullable("int"), default: null },
  ],
} as const;
