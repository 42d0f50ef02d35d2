import { type Static, Type as T, type TSchema } from "@sinclair/typebox";
import { avroIntegers } from "../../../schemas/avro-type.ts";
import { GatewayError } from "../../../schemas/errors.ts";
import { blankPart, type ChatRequest, type ContentPart } from "../../../schemas/request-envelope.ts";
import type { ParsedCall } from "../api.ts";
import { reasoningEffortSchema } from "../reasoning-effort.ts";

const textPart = T.Object({ type: T.Literal("text"), text: T.String() });
const imagePart = T.Object({
  type: T.Literal("image_url"),
  image_url: T.Object({ url: T.String({ minLength: 1 }), detail: T.Optional(T.String()) }),
});
// Any other part type is recognised (to name it in a clear 400), but a known type must match its own schema.
const otherPart = T.Object({ type: T.String({ pattern: "^(?!(text|image_url)$)" }) });
const content = <Part extends TSchema>(parts: Part) =>
  T.Union([T.String(), T.Array(parts)], { description: "a string or an array of content parts" });

const toolCall = T.Object({
  id: T.String(),
  type: T.Literal("function"),
  function: T.Object({ name: T.String(), arguments: T.String() }),
});

const message = T.Union(
  [
    T.Object({
      role: T.Union([T.Literal("system"), T.Literal("developer")]),
      content: content(textPart),
      name: T.Optional(T.String()),
    }),
    T.Object({
      role: T.Literal("user"),
      content: content(T.Union([textPart, imagePart, otherPart])),
      name: T.Optional(T.String()),
    }),
    T.Object({
      role: T.Literal("assistant"),
      content: T.Optional(T.Union([T.Null(), content(T.Union([textPart, otherPart]))])),
      tool_calls: T.Optional(T.Array(toolCall)),
      name: T.Optional(T.String()),
    }),
    T.Object({ role: T.Literal("tool"), content: content(textPart), tool_call_id: T.String() }),
  ],
  { description: "a message with role system, developer, user, assistant or tool and its content" },
);

const tokenCount = T.Integer({ minimum: 1, maximum: avroIntegers.int.maximum });

/** The fields of a Chat Completions body the gateway reads; all others pass through verbatim. */
export const openAIChatBody = T.Object({
  model: T.String({ minLength: 1 }),
  messages: T.Array(message, { minItems: 1 }),
  stream: T.Optional(T.Boolean()),
  stream_options: T.Optional(T.Union([T.Null(), T.Object({ include_usage: T.Optional(T.Boolean()) })])),
  tools: T.Optional(
    T.Array(
      T.Object({
        type: T.Literal("function"),
        function: T.Object({
          name: T.String({ minLength: 1 }),
          description: T.Optional(T.String()),
          parameters: T.Optional(T.Record(T.String(), T.Unknown())),
          strict: T.Optional(T.Union([T.Boolean(), T.Null()])),
        }),
      }),
    ),
  ),
  tool_choice: T.Optional(
    T.Union(
      [
        T.Literal("none"),
        T.Literal("auto"),
        T.Literal("required"),
        T.Object({ type: T.Literal("function"), function: T.Object({ name: T.String() }) }),
      ],
      { description: 'expected "none", "auto", "required" or {"type":"function","function":{"name":…}}' },
    ),
  ),
  parallel_tool_calls: T.Optional(T.Boolean()),
  reasoning_effort: T.Optional(reasoningEffortSchema),
  temperature: T.Optional(T.Union([T.Null(), T.Number({ minimum: 0, maximum: 2 })])),
  top_p: T.Optional(T.Union([T.Null(), T.Number({ minimum: 0, maximum: 1 })])),
  max_tokens: T.Optional(T.Union([T.Null(), tokenCount])),
  max_completion_tokens: T.Optional(T.Union([T.Null(), tokenCount])),
  stop: T.Optional(T.Union([T.Null(), T.String(), T.Array(T.String(), { maxItems: 4 })])),
  seed: T.Optional(T.Union([T.Null(), T.Integer(avroIntegers.long)])),
  n: T.Optional(T.Union([T.Null(), T.Integer({ minimum: 1, maximum: 128 })])),
  user: T.Optional(T.String()),
  response_format: T.Optional(
    T.Union(
      [
        T.Object({ type: T.Literal("text") }),
        T.Object({ type: T.Literal("json_object") }),
        T.Object({
          type: T.Literal("json_schema"),
          json_schema: T.Object({
            name: T.String({ minLength: 1 }),
            schema: T.Optional(T.Record(T.String(), T.Unknown())),
            strict: T.Optional(T.Union([T.Boolean(), T.Null()])),
            description: T.Optional(T.String()),
          }),
        }),
      ],
      {
        description:
          'expected {"type":"text"}, {"type":"json_object"} or {"type":"json_schema","json_schema":{…}}',
      },
    ),
  ),
  functions: T.Optional(T.Unknown()),
  function_call: T.Optional(T.Unknown()),
});

export type OpenAIChatBody = Static<typeof openAIChatBody>;

const modelled = new Set(Object.keys(openAIChatBody.properties));

export function parseOpenAIChat(body: OpenAIChatBody): ParsedCall {
  if (body.functions !== undefined || body.function_call !== undefined) {
    throw new GatewayError(
      "invalid_request",
      "functions and function_call are deprecated; use tools and tool_choice",
      {
        param: body.functions !== undefined ? "functions" : "function_call",
      },
    );
  }
  const extra = Object.fromEntries(Object.entries(body).filter(([key]) => !modelled.has(key)));
  const chat: ChatRequest = {
    model: body.model,
    messages: body.messages.map((item, index) => toMessage(item, index)),
    tools: (body.tools ?? []).map(({ function: fn }) => ({
      name: fn.name,
      description: fn.description ?? null,
      parametersJson: JSON.stringify(fn.parameters ?? { type: "object", properties: {} }),
      cacheControlJson: null,
    })),
    toolChoice: toToolChoice(body),
    temperature: body.temperature ?? null,
    topP: body.top_p ?? null,
    reasoning: body.reasoning_effort ? { effort: body.reasoning_effort, budgetTokens: null } : null,
    maxTokens: body.max_completion_tokens ?? body.max_tokens ?? null,
    stop:
      body.stop === undefined || body.stop === null
        ? []
        : typeof body.stop === "string"
          ? [body.stop]
          : body.stop,
    seed: body.seed ?? null,
    n: body.n ?? 1,
    responseFormat: toResponseFormat(body.response_format),
    extraJson: Object.keys(extra).length > 0 ? JSON.stringify(extra) : null,
  };
  return {
    model: body.model,
    stream: body.stream === true,
    chat,
    user: body.user,
    render: { includeUsage: body.stream_options?.include_usage === true },
  };
}

type Message = OpenAIChatBody["messages"][number];

function toMessage(item: Message, index: number): ChatRequest["messages"][number] {
  const name = "name" in item ? (item.name ?? null) : null;
  if (item.role === "tool") {
    return {
      role: "tool",
      name: null,
      content: [
        { ...blankPart, kind: "tool_result", toolCallId: item.tool_call_id, text: textOf(item.content) },
      ],
      reasoning: [],
    };
  }
  const parts = item.content === undefined || item.content === null ? [] : toParts(item.content, index);
  if (item.role === "assistant") {
    for (const call of item.tool_calls ?? []) {
      parts.push({
        ...blankPart,
        kind: "tool_call",
        toolCallId: call.id,
        toolName: call.function.name,
        argumentsJson: call.function.arguments,
      });
    }
  }
  return { role: item.role, name, content: parts, reasoning: [] };
}

function toParts(
  content: string | Array<{ type: string; text?: string; image_url?: { url: string; detail?: string } }>,
  index: number,
): ContentPart[] {
  if (typeof content === "string") return [{ ...blankPart, kind: "text", text: content }];
  return content.map((part, partIndex) => {
    if (part.type === "text" && typeof part.text === "string")
      return { ...blankPart, kind: "text", text: part.text };
    if (part.type === "image_url" && part.image_url) {
      return {
        ...blankPart,
        kind: "image",
        image: {
          url: part.image_url.url,
          data: null,
          mediaType: null,
          detail: part.image_url.detail ?? null,
        },
      };
    }
    throw new GatewayError(
      "invalid_request",
      `content parts of type ${part.type} are not supported by this gateway yet`,
      {
        param: `messages.${index}.content.${partIndex}.type`,
      },
    );
  });
}

function textOf(content: string | Array<{ text: string }>): string {
  return typeof content === "string" ? content : content.map((part) => part.text).join("");
}

function toToolChoice(body: OpenAIChatBody): ChatRequest["toolChoice"] {
  const choice = body.tool_choice;
  const parallel = body.parallel_tool_calls ?? null;
  if (choice === undefined) return parallel === null ? null : { mode: "auto", toolName: null, parallel };
  if (typeof choice === "string") return { mode: choice, toolName: null, parallel };
  return { mode: "tool", toolName: choice.function.name, parallel };
}

function toResponseFormat(format: OpenAIChatBody["response_format"]): ChatRequest["responseFormat"] {
  if (!format) return null;
  if (format.type !== "json_schema")
    return { type: format.type, schemaName: null, schemaJson: null, strict: null };
  return {
    type: "json_schema",
    schemaName: format.json_schema.name,
    schemaJson: format.json_schema.schema ? JSON.stringify(format.json_schema.schema) : null,
    strict: format.json_schema.strict ?? null,
  };
}
