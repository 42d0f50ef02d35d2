import { type Static, Type as T } from "@sinclair/typebox";
import { GatewayError } from "../../../schemas/errors.ts";
import { blankPart, type ChatRequest, type ContentPart } from "../../../schemas/request-envelope.ts";
import type { ParsedCall } from "../api.ts";

const cacheControl = T.Optional(T.Unknown());
const textBlock = T.Object({ type: T.Literal("text"), text: T.String(), cache_control: cacheControl });
const imageBlock = T.Object({
  type: T.Literal("image"),
  source: T.Union(
    [
      T.Object({ type: T.Literal("base64"), media_type: T.String(), data: T.String() }),
      T.Object({ type: T.Literal("url"), url: T.String() }),
    ],
    { description: 'expected {"type":"base64","media_type","data"} or {"type":"url","url"}' },
  ),
  cache_control: cacheControl,
});
const toolUseBlock = T.Object({
  type: T.Literal("tool_use"),
  id: T.String(),
  name: T.String(),
  input: T.Unknown(),
  cache_control: cacheControl,
});
const toolResultBlock = T.Object({
  type: T.Literal("tool_result"),
  tool_use_id: T.String(),
  content: T.Optional(T.Union([T.String(), T.Array(T.Union([textBlock, imageBlock]))])),
  is_error: T.Optional(T.Boolean()),
  cache_control: cacheControl,
});
// Any other block type is recognised (to name it in a clear 400), but a known type must match its own schema.
const otherBlock = T.Object({ type: T.String({ pattern: "^(?!(text|image|tool_use|tool_result)$)" }) });

/** The fields of a Messages body the gateway reads; all others pass through verbatim. */
export const anthropicMessagesBody = T.Object({
  model: T.String({ minLength: 1 }),
  max_tokens: T.Integer({ minimum: 1 }),
  messages: T.Array(
    T.Object({
      role: T.Union([T.Literal("user"), T.Literal("assistant")], {
        description: 'expected "user" or "assistant"',
      }),
      content: T.Union(
        [T.String(), T.Array(T.Union([textBlock, imageBlock, toolUseBlock, toolResultBlock, otherBlock]))],
        {
          description: "expected a string or an array of content blocks",
        },
      ),
    }),
    { minItems: 1 },
  ),
  system: T.Optional(
    T.Union([T.String(), T.Array(textBlock)], { description: "expected a string or text blocks" }),
  ),
  tools: T.Optional(
    T.Array(
      T.Object({
        name: T.String({ minLength: 1 }),
        description: T.Optional(T.String()),
        input_schema: T.Record(T.String(), T.Unknown()),
        cache_control: cacheControl,
      }),
    ),
  ),
  tool_choice: T.Optional(
    T.Object({
      type: T.Union([T.Literal("auto"), T.Literal("any"), T.Literal("tool"), T.Literal("none")], {
        description: 'expected "auto", "any", "tool" or "none"',
      }),
      name: T.Optional(T.String()),
      disable_parallel_tool_use: T.Optional(T.Boolean()),
    }),
  ),
  temperature: T.Optional(T.Number({ minimum: 0, maximum: 1 })),
  top_p: T.Optional(T.Number({ minimum: 0, maximum: 1 })),
  stop_sequences: T.Optional(T.Array(T.String())),
  stream: T.Optional(T.Boolean()),
  metadata: T.Optional(T.Object({ user_id: T.Optional(T.Union([T.String(), T.Null()])) })),
});

export type AnthropicMessagesBody = Static<typeof anthropicMessagesBody>;

const modelled = new Set(Object.keys(anthropicMessagesBody.properties));

export function parseAnthropicMessages(body: AnthropicMessagesBody): ParsedCall {
  const extra = Object.fromEntries(Object.entries(body).filter(([key]) => !modelled.has(key)));
  const system: ChatRequest["messages"] =
    body.system === undefined
      ? []
      : [
          {
            role: "system",
            name: null,
            content:
              typeof body.system === "string"
                ? [{ ...blankPart, text: body.system }]
                : body.system.map((block) => ({ ...blankPart, text: block.text })),
          },
        ];
  const chat: ChatRequest = {
    model: body.model,
    messages: [
      ...system,
      ...body.messages.map((message, index) => ({
        role: message.role,
        name: null,
        content:
          typeof message.content === "string"
            ? [{ ...blankPart, text: message.content }]
            : toParts(message.content, index),
      })),
    ],
    tools: (body.tools ?? []).map((tool) => ({
      name: tool.name,
      description: tool.description ?? null,
      parametersJson: JSON.stringify(tool.input_schema),
    })),
    toolChoice: body.tool_choice
      ? {
          mode: ({ auto: "auto", any: "required", tool: "tool", none: "none" } as const)[
            body.tool_choice.type
          ],
          toolName: body.tool_choice.name ?? null,
          parallel:
            body.tool_choice.disable_parallel_tool_use === undefined
              ? null
              : !body.tool_choice.disable_parallel_tool_use,
        }
      : null,
    temperature: body.temperature ?? null,
    topP: body.top_p ?? null,
    maxTokens: body.max_tokens,
    stop: body.stop_sequences ?? [],
    seed: null,
    n: 1,
    responseFormat: null,
    extraJson: Object.keys(extra).length > 0 ? JSON.stringify(extra) : null,
  };
  if (chat.toolChoice?.mode === "tool" && !chat.toolChoice.toolName) {
    throw new GatewayError("invalid_request", 'tool_choice.name: required when tool_choice.type is "tool"', {
      param: "tool_choice.name",
    });
  }
  return {
    model: body.model,
    stream: body.stream === true,
    chat,
    user: body.metadata?.user_id ?? undefined,
    render: {},
  };
}

type Block = Exclude<AnthropicMessagesBody["messages"][number]["content"], string>[number];

function toParts(blocks: Block[], messageIndex: number): ContentPart[] {
  return blocks.map((block, blockIndex): ContentPart => {
    const at = `messages.${messageIndex}.content.${blockIndex}`;
    switch (block.type) {
      case "text":
        return { ...blankPart, text: (block as { text: string }).text };
      case "image":
        return { ...blankPart, kind: "image", image: toImage(block as Static<typeof imageBlock>) };
      case "tool_use": {
        const use = block as Static<typeof toolUseBlock>;
        return {
          ...blankPart,
          kind: "tool_call",
          toolCallId: use.id,
          toolName: use.name,
          argumentsJson: JSON.stringify(use.input ?? {}),
        };
      }
      case "tool_result": {
        const result = block as Static<typeof toolResultBlock>;
        const text =
          result.content === undefined
            ? ""
            : typeof result.content === "string"
              ? result.content
              : result.content.map((part) => (part.type === "text" ? part.text : "")).join("");
        return {
          ...blankPart,
          kind: "tool_result",
          toolCallId: result.tool_use_id,
          text,
          isError: result.is_error === true,
        };
      }
      default:
        throw new GatewayError(
          "invalid_request",
          `${at}.type: content blocks of type ${block.type} are not supported by this gateway yet`,
          {
            param: `${at}.type`,
          },
        );
    }
  });
}

function toImage(block: Static<typeof imageBlock>): NonNullable<ContentPart["image"]> {
  if (block.source.type === "url")
    return { url: block.source.url, data: null, mediaType: null, detail: null };
  return {
    url: null,
    data: Buffer.from(block.source.data, "base64"),
    mediaType: block.source.media_type,
    detail: null,
  };
}
