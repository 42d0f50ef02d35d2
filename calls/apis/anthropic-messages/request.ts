import { type Static, Type as T } from "@sinclair/typebox";
import { avroIntegers } from "../../../schemas/avro-type.ts";
import { GatewayError } from "../../../schemas/errors.ts";
import {
  blankPart,
  type ChatMessage,
  type ChatRequest,
  type ContentPart,
  type ReasoningPart,
} from "../../../schemas/request-envelope.ts";
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
const thinkingBlock = T.Object({ type: T.Literal("thinking"), thinking: T.String(), signature: T.String() });
const redactedThinkingBlock = T.Object({ type: T.Literal("redacted_thinking"), data: T.String() });
// Any other block type is recognised (to name it in a clear 400), but a known type must match its own schema.
const otherBlock = T.Object({
  type: T.String({ pattern: "^(?!(text|image|tool_use|tool_result|thinking|redacted_thinking)$)" }),
});

/** The fields of a Messages body the gateway reads; all others pass through verbatim. */
export const anthropicMessagesBody = T.Object({
  model: T.String({ minLength: 1 }),
  max_tokens: T.Integer({ minimum: 1, maximum: avroIntegers.int.maximum }),
  messages: T.Array(
    T.Object({
      role: T.Union([T.Literal("user"), T.Literal("assistant")], {
        description: 'expected "user" or "assistant"',
      }),
      content: T.Union(
        [
          T.String(),
          T.Array(
            T.Union([
              textBlock,
              imageBlock,
              toolUseBlock,
              toolResultBlock,
              thinkingBlock,
              redactedThinkingBlock,
              otherBlock,
            ]),
          ),
        ],
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
  thinking: T.Optional(
    T.Union(
      [
        T.Object({
          type: T.Literal("enabled"),
          budget_tokens: T.Integer({ minimum: 1024, maximum: avroIntegers.int.maximum }),
        }),
        T.Object({ type: T.Literal("disabled") }),
      ],
      {
        description: `expected {"type":"enabled","budget_tokens":1024 to ${avroIntegers.int.maximum}} or {"type":"disabled"}`,
      },
    ),
  ),
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
                : body.system.map((block) => ({
                    ...blankPart,
                    text: block.text,
                    cacheControlJson: cacheControlOf(block),
                  })),
            reasoning: [],
          },
        ];
  const chat: ChatRequest = {
    model: body.model,
    messages: [
      ...system,
      ...body.messages.map((message, index) =>
        typeof message.content === "string"
          ? {
              role: message.role,
              name: null,
              content: [{ ...blankPart, text: message.content }],
              reasoning: [],
            }
          : { role: message.role, name: null, ...toParts(message.content, index) },
      ),
    ],
    tools: (body.tools ?? []).map((tool) => ({
      name: tool.name,
      description: tool.description ?? null,
      parametersJson: JSON.stringify(tool.input_schema),
      cacheControlJson: cacheControlOf(tool),
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
    // Disabled thinking is every provider's default here, as it is Anthropic's.
    reasoning:
      body.thinking?.type === "enabled" ? { effort: null, budgetTokens: body.thinking.budget_tokens } : null,
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

const cacheControlOf = (block: { cache_control?: unknown }): string | null =>
  block.cache_control === undefined ? null : JSON.stringify(block.cache_control);

/** A message's blocks as content parts, with its thinking blocks set beside them (see ReasoningPart). */
function toParts(blocks: Block[], messageIndex: number): Pick<ChatMessage, "content" | "reasoning"> {
  const content: ContentPart[] = [];
  const reasoning: ReasoningPart[] = [];
  for (const [blockIndex, block] of blocks.entries()) {
    const at = `messages.${messageIndex}.content.${blockIndex}`;
    switch (block.type) {
      case "text": {
        const text = block as Static<typeof textBlock>;
        content.push({ ...blankPart, text: text.text, cacheControlJson: cacheControlOf(text) });
        break;
      }
      case "image": {
        const image = block as Static<typeof imageBlock>;
        content.push({
          ...blankPart,
          kind: "image",
          image: toImage(image),
          cacheControlJson: cacheControlOf(image),
        });
        break;
      }
      case "tool_use": {
        const use = block as Static<typeof toolUseBlock>;
        content.push({
          ...blankPart,
          kind: "tool_call",
          toolCallId: use.id,
          toolName: use.name,
          argumentsJson: JSON.stringify(use.input ?? {}),
          cacheControlJson: cacheControlOf(use),
        });
        break;
      }
      case "tool_result": {
        const result = block as Static<typeof toolResultBlock>;
        const text =
          result.content === undefined
            ? ""
            : typeof result.content === "string"
              ? result.content
              : result.content.map((part) => (part.type === "text" ? part.text : "")).join("");
        content.push({
          ...blankPart,
          kind: "tool_result",
          toolCallId: result.tool_use_id,
          text,
          isError: result.is_error === true,
          cacheControlJson: cacheControlOf(result),
        });
        break;
      }
      case "thinking": {
        const thinking = block as Static<typeof thinkingBlock>;
        reasoning.push({
          beforePart: content.length,
          text: thinking.thinking,
          // The gateway shows other providers' reasoning with an empty signature: there is none to send back.
          signature: thinking.signature === "" ? null : thinking.signature,
          redactedData: null,
        });
        break;
      }
      case "redacted_thinking": {
        const redacted = block as Static<typeof redactedThinkingBlock>;
        reasoning.push({
          beforePart: content.length,
          text: "",
          signature: null,
          redactedData: redacted.data,
        });
        break;
      }
      default:
        throw new GatewayError(
          "invalid_request",
          `${at}.type: content blocks of type ${block.type} are not supported by this gateway yet`,
          { param: `${at}.type` },
        );
    }
  }
  return { content, reasoning };
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
