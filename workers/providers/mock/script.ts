import type { FinishReason } from "../../../schemas/reply-event.ts";
import type { ChatRequest } from "../../../schemas/request-envelope.ts";

/**
 * What the mock provider will answer, decided from the request alone so that anyone (and every
 * test) can predict it. Directives in the last user message steer it:
 *   [mock:tokens=N]     answer with N words instead of echoing the prompt
 *   [mock:delay_ms=N]   wait N ms before each word (overrides tokensPerSecond)
 *   [mock:error=STATUS] fail like a provider answering STATUS (429 carries retry-after)
 *   [mock:tool]         call the first tool; [mock:tool=name] that tool; [mock:tools] every tool
 */
export interface MockScript {
  /** Words of each choice's answer, each sent as one delta (a leading space after the first). */
  words: string[];
  finishReason: FinishReason;
  /** The stop sequence that cut the answer, if one did. */
  stopSequence: string | undefined;
  toolCalls: Array<{ id: string; name: string; argumentsJson: string }>;
  delayMs: number | undefined;
  errorStatus: number | undefined;
  inputTokens: number;
}

const directive = /\[mock:([a-z_]+)(?:=([^\]]*))?\]/g;
const lorem =
  "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua".split(
    " ",
  );

export function scriptFor(request: ChatRequest): MockScript {
  const lastUser = [...request.messages].reverse().find((message) => message.role === "user");
  const lastText = lastUser ? textOf(lastUser.content) : "";
  const directives = new Map(
    [...lastText.matchAll(directive)].map((match) => [match[1] as string, match[2] ?? ""]),
  );
  const prompt = lastText.replace(directive, "").replace(/\s+/g, " ").trim();

  const tokens = numberDirective(directives, "tokens");
  let words =
    tokens === undefined
      ? `You said: ${prompt}`.split(" ")
      : Array.from({ length: tokens }, (_, i) => lorem[i % lorem.length] as string);
  let finishReason: FinishReason = "stop";

  const stop = firstStop(words.join(" "), request.stop);
  if (stop) words = stop.at === 0 ? [] : words.join(" ").slice(0, stop.at).split(" ");
  if (request.maxTokens !== null && request.maxTokens !== undefined && words.length > request.maxTokens) {
    words = words.slice(0, request.maxTokens);
    finishReason = "length";
  }

  const toolCalls = chosenTools(request, directives).map((tool, index) => ({
    id: `call_mock_${index}_${tool.name}`,
    name: tool.name,
    argumentsJson: JSON.stringify(exampleArguments(tool.parametersJson)),
  }));
  if (toolCalls.length > 0) {
    words = [];
    finishReason = "tool_calls";
  }

  return {
    words,
    finishReason,
    stopSequence: finishReason === "stop" ? stop?.sequence : undefined,
    toolCalls,
    delayMs: numberDirective(directives, "delay_ms"),
    errorStatus: numberDirective(directives, "error"),
    inputTokens: request.messages.reduce((sum, message) => sum + countWords(textOf(message.content)), 0),
  };
}

export function countWords(text: string): number {
  const trimmed = text.trim();
  return trimmed === "" ? 0 : trimmed.split(/\s+/).length;
}

function textOf(content: ChatRequest["messages"][number]["content"]): string {
  return content.map((part) => part.text ?? "").join(" ");
}

function numberDirective(directives: Map<string, string>, name: string): number | undefined {
  const value = directives.get(name);
  return value === undefined || value === "" || Number.isNaN(Number(value)) ? undefined : Number(value);
}

function firstStop(text: string, stops: string[]): { at: number; sequence: string } | undefined {
  return stops
    .map((sequence) => ({ at: text.indexOf(sequence), sequence }))
    .filter(({ at }) => at >= 0)
    .sort((a, b) => a.at - b.at)[0];
}

function chosenTools(request: ChatRequest, directives: Map<string, string>): ChatRequest["tools"] {
  const { tools, toolChoice } = request;
  if (tools.length === 0 || toolChoice?.mode === "none") return [];
  if (directives.has("tools")) return tools;
  const named = toolChoice?.mode === "tool" ? toolChoice.toolName : directives.get("tool");
  if (named) return tools.filter((tool) => tool.name === named);
  if (directives.has("tool") || toolChoice?.mode === "required") return tools.slice(0, 1);
  return [];
}

/** Arguments that satisfy the tool's JSON Schema well enough for a client to parse and use. */
function exampleArguments(parametersJson: string): Record<string, unknown> {
  const schema = JSON.parse(parametersJson) as {
    properties?: Record<string, { type?: string; enum?: unknown[] }>;
  };
  const example: Record<string, unknown> = {};
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    if (property.enum && property.enum.length > 0) example[name] = property.enum[0];
    else if (property.type === "number" || property.type === "integer") example[name] = 1;
    else if (property.type === "boolean") example[name] = true;
    else if (property.type === "array") example[name] = [];
    else if (property.type === "object") example[name] = {};
    else example[name] = "mock";
  }
  return example;
}
