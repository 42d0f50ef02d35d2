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
import { reasoningEffortSchema } from "../reasoning-effort.ts";
import { decodeReasoningProof } from "./encrypted-reasoning.ts";

const textContent = T.Object({
  type: T.Union([T.Literal("input_text"), T.Literal("output_text")]),
  text: T.String(),
});
const imageContent = T.Object({
  type: T.Literal("input_image"),
  image_url: T.Optional(T.String()),
  file_id: T.Optional(T.String()),
  detail: T.Optional(T.String()),
});
// Any other part type is recognised (to name it in a clear 400), but a known type must match its own schema.
const otherContent = T.Object({ type: T.String({ pattern: "^(?!(input_text|output_text|input_image)$)" }) });

const messageItem = T.Object({
  type: T.Optional(T.Literal("message")),
  role: T.Union([T.Literal("user"), T.Literal("assistant"), T.Literal("system"), T.Literal("developer")], {
    description: 'expected "user", "assistant", "system" or "developer"',
  }),
  content: T.Union([T.String(), T.Array(T.Union([textContent, imageContent, otherContent]))], {
    description: "expected a string or an array of content parts",
  }),
  id: T.Optional(T.String()),
  status: T.Optional(T.String()),
});
const functionCallItem = T.Object({
  type: T.Literal("function_call"),
  call_id: T.String(),
  name: T.String(),
  arguments: T.String(),
  id: T.Optional(T.String()),
  status: T.Optional(T.String()),
});
const functionOutputItem = T.Object({
  type: T.Literal("function_call_output"),
  call_id: T.String(),
  output: T.Union([T.String(), T.Array(textContent)], { description: "expected a string or text parts" }),
  id: T.Optional(T.String()),
  status: T.Optional(T.String()),
});
const reasoningItem = T.Object({
  type: T.Literal("reasoning"),
  id: T.Optional(T.String()),
  summary: T.Array(T.Object({ type: T.String(), text: T.String() })),
  content: T.Optional(T.Union([T.Null(), T.Array(T.Object({ type: T.String(), text: T.String() }))])),
  encrypted_content: T.Optional(T.Union([T.String(), T.Null()])),
  status: T.Optional(T.String()),
});
const otherItem = T.Object({
  type: T.String({ pattern: "^(?!(message|function_call|function_call_output|reasoning)$)" }),
});

/** The fields of a Responses body the gateway reads; see `ignored` and `translated` for the others. */
export const openAIResponsesBody = T.Object({
  model: T.String({ minLength: 1 }),
  input: T.Union(
    [
      T.String(),
      T.Array(T.Union([messageItem, functionCallItem, functionOutputItem, reasoningItem, otherItem]), {
        minItems: 1,
      }),
    ],
    {
      description: "expected a string or an array of input items",
    },
  ),
  instructions: T.Optional(T.Union([T.String(), T.Null()])),
  stream: T.Optional(T.Boolean()),
  tools: T.Optional(
    T.Array(
      T.Object({
        type: T.String(),
        name: T.Optional(T.String()),
        description: T.Optional(T.Union([T.String(), T.Null()])),
        parameters: T.Optional(T.Union([T.Record(T.String(), T.Unknown()), T.Null()])),
        strict: T.Optional(T.Union([T.Boolean(), T.Null()])),
      }),
    ),
  ),
  tool_choice: T.Optional(
    T.Union(
      [
        T.Literal("none"),
        T.Literal("auto"),
        T.Literal("required"),
        T.Object({ type: T.Literal("function"), name: T.String() }),
      ],
      {
        description: 'expected "none", "auto", "required" or {"type":"function","name":…}',
      },
    ),
  ),
  parallel_tool_calls: T.Optional(T.Union([T.Boolean(), T.Null()])),
  temperature: T.Optional(T.Union([T.Null(), T.Number({ minimum: 0, maximum: 2 })])),
  top_p: T.Optional(T.Union([T.Null(), T.Number({ minimum: 0, maximum: 1 })])),
  max_output_tokens: T.Optional(
    T.Union([T.Null(), T.Integer({ minimum: 1, maximum: avroIntegers.int.maximum })]),
  ),
  text: T.Optional(
    T.Object({
      format: T.Optional(
        T.Object({
          type: T.Union([T.Literal("text"), T.Literal("json_object"), T.Literal("json_schema")], {
            description: 'expected "text", "json_object" or "json_schema"',
          }),
          name: T.Optional(T.String()),
          schema: T.Optional(T.Record(T.String(), T.Unknown())),
          strict: T.Optional(T.Union([T.Boolean(), T.Null()])),
        }),
      ),
      verbosity: T.Optional(T.String()),
    }),
  ),
  reasoning: T.Optional(
    T.Union([
      T.Null(),
      T.Object({ effort: T.Optional(reasoningEffortSchema), summary: T.Optional(T.Unknown()) }),
    ]),
  ),
  user: T.Optional(T.String()),
  previous_response_id: T.Optional(T.Union([T.String(), T.Null()])),
  store: T.Optional(T.Union([T.Boolean(), T.Null()])),
  conversation: T.Optional(T.Unknown()),
  background: T.Optional(T.Union([T.Boolean(), T.Null()])),
});

export type OpenAIResponsesBody = Static<typeof openAIResponsesBody>;

/** Options about output extras that change nothing in the answer itself. */
const ignored = new Set(["include", "truncation", "stream_options", "max_tool_calls", "top_logprobs"]);
/** Options with the same name and meaning in Chat Completions: they pass through as such. */
const translated = new Set(["metadata", "service_tier", "prompt_cache_key", "safety_identifier"]);
const modelled = new Set(Object.keys(openAIResponsesBody.properties));

export type Item = Exclude<OpenAIResponsesBody["input"], string>[number];

/** The caller's input as items: a string is one user message. */
export function inputItems(input: OpenAIResponsesBody["input"]): Item[] {
  return typeof input === "string" ? [{ type: "message", role: "user", content: input }] : input;
}

const refuse = (param: string, message: string): never => {
  throw new GatewayError("invalid_request", `${param}: ${message}`, { param });
};

/**
 * A Responses call that continues no stored response (where stored responses cannot be read,
 * e.g. a batch line): as `continuedResponsesCall` with no earlier items.
 */
export function parseOpenAIResponses(body: OpenAIResponsesBody): ParsedCall {
  if (body.previous_response_id)
    refuse("previous_response_id", "only POST /v1/responses continues stored responses");
  return continuedResponsesCall(body, []);
}

/**
 * A Responses API call as the gateway's ChatRequest (in Chat Completions terms, which every
 * provider adapter serves): the `earlier` items of the conversation it continues (stored), then its
 * own input, after its own `instructions` only (as OpenAI, those of earlier responses are not
 * carried over). Not supported yet, each with a clear 400: `conversation` objects, background
 * mode, and built-in tools.
 */
export function continuedResponsesCall(body: OpenAIResponsesBody, earlier: Item[]): ParsedCall {
  if (body.conversation !== undefined && body.conversation !== null)
    refuse("conversation", "this gateway stores no conversations; send the whole conversation in input");
  if (body.background) refuse("background", "background responses are not supported by this gateway");
  const extra: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    if (modelled.has(key) || ignored.has(key)) continue;
    if (!translated.has(key))
      refuse(key, "this option of the Responses API is not supported by this gateway");
    extra[key] = value;
  }

  if (body.text?.verbosity) extra.verbosity = body.text.verbosity;

  const tools = (body.tools ?? []).map((tool, index) => {
    if (tool.type !== "function" || !tool.name)
      refuse(
        `tools.${index}.type`,
        `tools of type ${tool.type} are not supported by this gateway; use function tools`,
      );
    return {
      name: tool.name as string,
      description: tool.description ?? null,
      parametersJson: JSON.stringify(tool.parameters ?? { type: "object", properties: {} }),
      cacheControlJson: null,
    };
  });
  const format = body.text?.format;
  const chat: ChatRequest = {
    model: body.model,
    messages: [
      ...(body.instructions ? [systemMessage(body.instructions)] : []),
      ...toMessages([...earlier, ...inputItems(body.input)], earlier.length),
    ],
    tools,
    toolChoice: toolChoice(body),
    temperature: body.temperature ?? null,
    topP: body.top_p ?? null,
    reasoning: body.reasoning?.effort ? { effort: body.reasoning.effort, budgetTokens: null } : null,
    maxTokens: body.max_output_tokens ?? null,
    stop: [],
    seed: null,
    n: 1,
    responseFormat: !format
      ? null
      : {
          type: format.type,
          schemaName: format.name ?? null,
          schemaJson: format.schema ? JSON.stringify(format.schema) : null,
          strict: format.strict ?? null,
        },
    extraJson: Object.keys(extra).length > 0 ? JSON.stringify(extra) : null,
  };
  return { model: body.model, stream: body.stream === true, chat, user: body.user, render: {} };
}

function systemMessage(text: string): ChatMessage {
  return { role: "system", name: null, content: [{ ...blankPart, text }], reasoning: [] };
}

/**
 * Input items as messages: consecutive function calls share one assistant message, as in Chat
 * Completions, and a reasoning item goes with the assistant output that follows it (an item the
 * gateway returned carries the provider's proof in `encrypted_content`; see encrypted-reasoning.ts).
 */
function toMessages(items: Item[], firstInput: number): ChatMessage[] {
  const messages: ChatMessage[] = [];
  let reasoning: Array<Omit<ReasoningPart, "beforePart">> = [];
  /** The assistant message the next output goes into: the open one if it only holds calls and `call` is one. */
  const assistantFor = (call: boolean): ChatMessage => {
    const previous = messages.at(-1);
    const open =
      call && previous?.role === "assistant" && previous.content.every((part) => part.kind === "tool_call")
        ? previous
        : undefined;
    const message = open ?? { role: "assistant", name: null, content: [], reasoning: [] };
    if (!open) messages.push(message);
    message.reasoning.push(...reasoning.map((part) => ({ ...part, beforePart: message.content.length })));
    reasoning = [];
    return message;
  };
  items.forEach((item: Item, index) => {
    const at = `input.${index - firstInput}`;
    if (item.type === "reasoning" && "summary" in item) {
      const text = (item.content ?? []).map((part) => part.text).join("");
      reasoning.push({ text, ...decodeReasoningProof(item.encrypted_content) });
    } else if (item.type === "function_call" && "call_id" in item && "name" in item) {
      assistantFor(true).content.push({
        ...blankPart,
        kind: "tool_call",
        toolCallId: item.call_id,
        toolName: item.name,
        argumentsJson: item.arguments,
      });
    } else if (item.type === "function_call_output" && "output" in item) {
      const output =
        typeof item.output === "string" ? item.output : item.output.map((part) => part.text).join("");
      messages.push({
        role: "tool",
        name: null,
        content: [{ ...blankPart, kind: "tool_result", toolCallId: item.call_id, text: output }],
        reasoning: [],
      });
    } else if ("role" in item) {
      const content =
        typeof item.content === "string"
          ? [{ ...blankPart, text: item.content }]
          : item.content.map((part, partIndex) => toPart(part, `${at}.content.${partIndex}`));
      if (item.role === "assistant") assistantFor(false).content.push(...content);
      else messages.push({ role: item.role, name: null, content, reasoning: [] });
    } else {
      refuse(`${at}.type`, `input items of type ${item.type} are not supported by this gateway`);
    }
  });
  return messages;
}

function toPart(
  part: { type: string; text?: string; image_url?: string; detail?: string },
  at: string,
): ContentPart {
  if ((part.type === "input_text" || part.type === "output_text") && part.text !== undefined)
    return { ...blankPart, text: part.text };
  if (part.type === "input_image" && part.image_url) {
    return {
      ...blankPart,
      kind: "image",
      image: { url: part.image_url, data: null, mediaType: null, detail: part.detail ?? null },
    };
  }
  return refuse(
    `${at}.type`,
    `content parts of type ${part.type}${part.type === "input_image" ? " without image_url" : ""} are not supported by this gateway`,
  );
}

function toolChoice(body: OpenAIResponsesBody): ChatRequest["toolChoice"] {
  const parallel = body.parallel_tool_calls ?? null;
  const choice = body.tool_choice;
  if (choice === undefined) return parallel === null ? null : { mode: "auto", toolName: null, parallel };
  if (typeof choice === "string") return { mode: choice, toolName: null, parallel };
  return { mode: "tool", toolName: choice.name, parallel };
}
