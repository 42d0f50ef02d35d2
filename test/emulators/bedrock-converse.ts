import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  beforeAnswer,
  chunkPause,
  cutConnection,
  directive,
  disconnectAfter,
  type Malformation,
  malformation,
  withoutDirectives,
} from "./directives.ts";
import type { Corruption, EventStreamWriter } from "./event-stream.ts";

type Block = { text?: string; toolUse?: unknown; toolResult?: unknown; reasoningContent?: unknown };
export type ConverseMessage = { role: string; content: Block[] };

/** What Bedrock's Converse refuses with a ValidationException before answering. */
export function invalidConverse(body: Record<string, unknown>): string | undefined {
  const messages = body.messages as ConverseMessage[] | undefined;
  if (!Array.isArray(messages) || messages.length === 0) return "messages: at least one message is required";
  if (messages[0]?.role !== "user") return "A conversation must start with a user message.";
  for (const [index, message] of messages.entries()) {
    if (index > 0 && messages[index - 1]?.role === message.role)
      return "A conversation must alternate between user and assistant roles.";
    if (!Array.isArray(message.content) || message.content.length === 0)
      return `messages.${index}.content: at least one content block is required`;
  }
  const usesTools = messages.some((message) =>
    message.content.some((block) => block.toolUse || block.toolResult),
  );
  if (usesTools && !body.toolConfig)
    return "The toolConfig field must be defined when using toolUse and toolResult content blocks.";
  const temperature = (body.inferenceConfig as { temperature?: number } | undefined)?.temperature;
  if (temperature !== undefined && (temperature < 0 || temperature > 1))
    return "inferenceConfig.temperature: must be between 0 and 1";
  return undefined;
}

/**
 * The Converse and ConverseStream answer: it echoes the prompt (`text`, the last user turn's text
 * with the injected directives). Steered by the directives listed in bedrock.ts.
 */
export async function answerConverse(
  request: IncomingMessage,
  response: ServerResponse,
  body: Record<string, unknown>,
  text: string,
  stream: EventStreamWriter | undefined,
  chunkDelayMs: number | undefined,
) {
  if (await beforeAnswer(text, request)) return;
  let words = `Echo: ${withoutDirectives(text)}`.split(/\s+/);
  const toolConfig = body.toolConfig as
    | {
        tools?: Array<{ toolSpec?: { name: string } }>;
        toolChoice?: { any?: object; tool?: { name: string } };
      }
    | undefined;
  const toolName =
    toolConfig?.toolChoice?.tool?.name ?? toolConfig?.tools?.find((tool) => tool.toolSpec)?.toolSpec?.name;
  const forced = toolConfig?.toolChoice?.any || toolConfig?.toolChoice?.tool ? 1 : 0;
  const callCount = toolName ? Number(directive(text, "calls") ?? forced) : 0;
  const calls = Array.from({ length: callCount }, (_, index) => ({
    toolUseId: `tooluse_emu0${index}`,
    name: toolName as string,
    input: { n: index },
  }));
  let stopReason = calls.length > 0 ? "tool_use" : "end_turn";
  if (calls.length === 0 && directive(text, "length") !== undefined) {
    words = words.slice(0, 2);
    stopReason = "max_tokens";
  } else if (calls.length === 0 && directive(text, "refusal") !== undefined) stopReason = "content_filtered";
  const stops = (body.inferenceConfig as { stopSequences?: string[] } | undefined)?.stopSequences ?? [];
  const stop = calls.length > 0 ? undefined : stops.find((sequence) => words.join(" ").includes(sequence));
  if (stop) {
    words = words.join(" ").slice(0, words.join(" ").indexOf(stop)).trim().split(" ");
    stopReason = "stop_sequence";
  }
  const thought =
    directive(text, "reasoning-content") !== undefined ? `Thinking about: ${withoutDirectives(text)}` : "";
  const cached = directive(text, "cached") !== undefined;
  const outputTokens = calls.length > 0 ? 7 * calls.length : words.length;
  const usage = {
    inputTokens: 10,
    outputTokens,
    totalTokens: 10 + outputTokens + (cached ? 120 : 0),
    ...(cached && { cacheReadInputTokens: 100, cacheWriteInputTokens: 20 }),
  };
  const reasoning = thought
    ? [{ reasoningContent: { reasoningText: { text: thought, signature: signature(thought) } } }]
    : [];
  const malformed = malformation(text);

  if (!stream) {
    const content = [
      ...reasoning,
      ...(calls.length > 0 ? calls.map((toolUse) => ({ toolUse })) : [{ text: words.join(" ") }]),
    ];
    const answer = {
      output: { message: { role: "assistant", content } },
      stopReason,
      usage,
      metrics: { latencyMs: 12 },
    };
    response.writeHead(200, { "content-type": "application/json", "x-amzn-requestid": "emu-request" });
    return response.end(malformed ? malformedResponse(malformed.kind, answer) : JSON.stringify(answer));
  }

  const delay = chunkPause(text, chunkDelayMs);
  const cutAfter = disconnectAfter(text);
  stream.event("messageStart", { role: "assistant" });
  let index = 0;
  if (thought) {
    for (const [position, word] of thought.split(" ").entries())
      stream.event("contentBlockDelta", {
        contentBlockIndex: index,
        delta: { reasoningContent: { text: position === 0 ? word : ` ${word}` } },
      });
    stream.event("contentBlockDelta", {
      contentBlockIndex: index,
      delta: { reasoningContent: { signature: signature(thought) } },
    });
    stream.event("contentBlockStop", { contentBlockIndex: index++ });
  }
  for (const call of calls) {
    stream.event("contentBlockStart", {
      contentBlockIndex: index,
      start: { toolUse: { toolUseId: call.toolUseId, name: call.name } },
    });
    for (const piece of ['{"n": ', `${call.input.n}}`]) {
      await delay();
      stream.event("contentBlockDelta", { contentBlockIndex: index, delta: { toolUse: { input: piece } } });
    }
    stream.event("contentBlockStop", { contentBlockIndex: index++ });
  }
  if (calls.length === 0) {
    for (const [position, word] of words.entries()) {
      await delay();
      if (response.destroyed) return;
      if (position === cutAfter) return cutConnection(response);
      const piece = position === 0 ? word : ` ${word}`;
      if (malformed && position === malformed.atWord) {
        for (const [type, payload] of malformedEvents(malformed.kind, index, piece))
          stream.event(type, payload);
        if (malformed.kind === "unknown") continue;
        return response.end();
      }
      const midstream = directive(text, "midstream");
      if (midstream !== undefined && position === 2)
        return stream.exception(
          midstream || "modelStreamErrorException",
          "The model stream was interrupted.",
        );
      stream.event("contentBlockDelta", { contentBlockIndex: index, delta: { text: piece } });
    }
    stream.event("contentBlockStop", { contentBlockIndex: index });
  }
  stream.event("messageStop", { stopReason });
  stream.event("metadata", { usage, metrics: { latencyMs: 12 } });
  response.end();
}

/** The frame a prompt asks to corrupt ([emulator:corrupt=prelude|message]): the second one written. */
export function corruptionOf(text: string): { kind: Corruption; atFrame: number } | undefined {
  const kind = directive(text, "corrupt");
  if (kind === undefined) return undefined;
  if (kind !== "prelude" && kind !== "message") throw new Error(`unknown corruption ${kind}`);
  return { kind, atFrame: 1 };
}

/** The events in place of one word's delta ([emulator:malformed]); `unknown`: an event and a delta key Bedrock may add. */
function malformedEvents(
  kind: Malformation,
  index: number,
  piece: string,
): Array<[string, Record<string, unknown> | string]> {
  switch (kind) {
    case "not-json":
      return [["contentBlockDelta", `{"contentBlockIndex":${index},"delta":{"text":`]];
    case "missing":
      return [["contentBlockDelta", { contentBlockIndex: index }]];
    case "wrong-type":
      return [["contentBlockDelta", { contentBlockIndex: index, delta: { text: 42 } }]];
    case "unknown":
      return [
        ["contentBlockAnnotation", { contentBlockIndex: index, annotation: { kind: "emulated" } }],
        ["contentBlockDelta", { contentBlockIndex: index, delta: { citation: { title: "emulated" } } }],
        ["contentBlockDelta", { contentBlockIndex: index, delta: { text: piece } }],
      ];
  }
}

/** A whole response as [emulator:malformed] asks for it; `unknown` adds a citations block and fields. */
function malformedResponse(
  kind: Malformation,
  answer: Record<string, unknown> & { output: { message: { content: unknown[] } } },
): string {
  const { output, ...rest } = answer;
  switch (kind) {
    case "not-json":
      return JSON.stringify(answer).slice(0, 60);
    case "missing":
      return JSON.stringify(rest);
    case "wrong-type":
      return JSON.stringify({ ...rest, output: { message: { role: "assistant", content: [{ text: 42 }] } } });
    case "unknown":
      return JSON.stringify({
        ...answer,
        trace: {},
        output: {
          message: {
            role: "assistant",
            content: [{ citationsContent: { citations: [] } }, ...output.message.content],
          },
        },
      });
  }
}

const signature = (thought: string) =>
  `emu_${createHash("sha256").update(`bedrock:${thought}`).digest("base64url").slice(0, 20)}`;
