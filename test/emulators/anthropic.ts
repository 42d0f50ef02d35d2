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
import { type Emulator, startJsonServer } from "./json-server.ts";
import { emulatedTokenCount } from "./token-count.ts";

/**
 * A stand-in for Anthropic's Messages API, written from its public reference: `x-api-key` and
 * `anthropic-version` headers, the `message` object, the stream's named events (message_start,
 * content_block_start/delta/stop, ping, message_delta with cumulative usage, message_stop, error),
 * error bodies `{"type":"error","error":{type,message}}`, 529 for overload and rate-limit headers.
 *
 * Its answer echoes the last user text. The prompt steers it:
 *   [emulator:status=N]   answer that HTTP status with Anthropic's error body (429 and 529 carry retry-after)
 *   [emulator:midstream]  stream two words, then an `error` event (overloaded_error)
 *   [emulator:cached]     report 100 input tokens read from the prompt cache and 20 written
 *   [emulator:calls=N]    use the first tool N times at once (tool_choice any or tool: once)
 *   [emulator:length]     stop after two words with stop_reason max_tokens
 *   [emulator:refusal]    end with stop_reason refusal
 *   [emulator:redacted]   with thinking on, add a redacted_thinking block after the thinking
 *   [emulator:malformed=KIND]  a body or event the adapter cannot read (directives.ts)
 * and those every emulator takes (directives.ts). POST /v1/messages/count_tokens answers
 * `{"input_tokens": N}`: a word of every text of system, messages and tools, and 3 a message
 * (test/emulators/token-count.ts); it refuses the fields that only shape an answer (max_tokens,
 * stream, temperature …), as Anthropic does. With `thinking` enabled it thinks first, in a
 * signed thinking block; `disable_parallel_tool_use` limits it to one call; it refuses what
 * Anthropic refuses (see `invalidRequest`).
 */
export type AnthropicEmulator = Emulator;

const errorTypes: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
  529: "overloaded_error",
};

export async function startAnthropicEmulator(options: {
  apiKey: string;
  chunkDelayMs?: number;
}): Promise<AnthropicEmulator> {
  const server = await startJsonServer({
    handle: (request, response, body, injected) => handle(request, response, body, options, injected),
    badJson: (response) => sendAnthropicError(response, 400, "messages: request body is not valid JSON"),
  });
  return server.emulatorAt("");
}

async function handle(
  request: IncomingMessage,
  response: ServerResponse,
  body: Record<string, unknown>,
  options: { apiKey: string; chunkDelayMs?: number },
  injected: string,
) {
  if (request.headers["x-api-key"] !== options.apiKey)
    return sendAnthropicError(response, 401, "invalid x-api-key");
  if (!request.headers["anthropic-version"])
    return sendAnthropicError(response, 400, "anthropic-version: header is required");
  if (request.url === "/v1/messages/count_tokens" && request.method === "POST")
    return countTokens(response, body);
  if (request.url !== "/v1/messages" || request.method !== "POST")
    return sendAnthropicError(response, 404, `Not found: ${request.method} ${request.url}`);
  return answerMessages(request, response, body, body.model, options, injected);
}

/**
 * The answer to a Messages call for `model` (in the body at Anthropic, in the URL on Vertex AI:
 * test/emulators/vertex.ts mounts it), steered by the prompt's directives.
 */
export async function answerMessages(
  request: IncomingMessage,
  response: ServerResponse,
  body: Record<string, unknown>,
  model: unknown,
  options: { chunkDelayMs?: number },
  injected: string,
) {
  if (typeof body.max_tokens !== "number")
    return sendAnthropicError(response, 400, "max_tokens: Field required");
  const messages = (body.messages as Message[] | undefined) ?? [];
  if (typeof model !== "string" || messages.length === 0)
    return sendAnthropicError(response, 400, "messages: at least one message is required");
  if (model.startsWith("missing")) return sendAnthropicError(response, 404, `model: ${model}`);
  const invalid = invalidRequest(body, messages);
  if (invalid) return sendAnthropicError(response, 400, invalid);

  const lastUser = [...messages].reverse().find((message) => message.role === "user");
  const prompt =
    typeof lastUser?.content === "string"
      ? lastUser.content
      : (lastUser?.content ?? [])
          .filter((block) => block.type === "text")
          .map((block) => block.text)
          .join(" ");
  const text = `${prompt} ${injected}`;
  const status = Number(directive(text, "status"));
  if (status) {
    if (status === 429 || status === 529) response.setHeader("retry-after", "3");
    return sendAnthropicError(
      response,
      status,
      status === 529 ? "Overloaded" : `Emulated failure with status ${status}`,
    );
  }
  if (await beforeAnswer(text, request)) return;

  let words = `Echo: ${withoutDirectives(text)}`.split(/\s+/);
  const tools = (body.tools as Array<{ name: string }> | undefined) ?? [];
  const choice = body.tool_choice as
    | { type: string; name?: string; disable_parallel_tool_use?: boolean }
    | undefined;
  const toolName = choice?.type === "tool" ? choice.name : tools[0]?.name;
  const asked = Number(
    directive(text, "calls") ?? (choice?.type === "any" || choice?.type === "tool" ? 1 : 0),
  );
  const callCount = choice?.disable_parallel_tool_use ? Math.min(asked, 1) : asked;
  const calls = toolName
    ? Array.from({ length: callCount }, (_, index) => ({
        id: `toolu_emu0${index}`,
        name: toolName,
        input: { n: index },
        pieces: ['{"n": ', `${index}}`],
      }))
    : [];
  const thinking = (body.thinking as { type?: string } | undefined)?.type === "enabled";
  const thought = `Thinking about: ${withoutDirectives(text)}`;
  const redacted = thinking && directive(text, "redacted") !== undefined;
  const cached = directive(text, "cached") !== undefined;
  let stopReason = calls.length > 0 ? "tool_use" : "end_turn";
  if (calls.length === 0 && directive(text, "length") !== undefined) {
    words = words.slice(0, 2);
    stopReason = "max_tokens";
  } else if (calls.length === 0 && directive(text, "refusal") !== undefined) stopReason = "refusal";
  const stopSequence =
    calls.length > 0
      ? undefined
      : (body.stop_sequences as string[] | undefined)?.find((stop) => words.join(" ").includes(stop));
  const answer = stopSequence
    ? words.join(" ").slice(0, words.join(" ").indexOf(stopSequence))
    : words.join(" ");
  if (stopSequence) stopReason = "stop_sequence";
  const usage = {
    input_tokens: 10,
    cache_creation_input_tokens: cached ? 20 : 0,
    cache_read_input_tokens: cached ? 100 : 0,
    output_tokens:
      (calls.length > 0 ? 7 * calls.length : answer.split(" ").length) +
      (thinking ? thought.split(" ").length : 0),
  };
  const id = `msg_emu${Date.now().toString(36)}`;
  const answeredBy = `${model}-20250101`;
  response.setHeader("anthropic-ratelimit-requests-remaining", "999");
  response.setHeader("request-id", `req_emu${Date.now().toString(36)}`);
  const reasoningBlocks = [
    ...(thinking ? [{ type: "thinking", thinking: thought, signature: sign(thought) }] : []),
    ...(redacted ? [{ type: "redacted_thinking", data: redactedData }] : []),
  ];

  const malformed = malformation(text);
  if (body.stream !== true) {
    const content =
      calls.length > 0
        ? calls.map((call) => ({ type: "tool_use", id: call.id, name: call.name, input: call.input }))
        : [{ type: "text", text: answer }];
    const message = {
      id,
      type: "message",
      role: "assistant",
      model: answeredBy,
      content: [...reasoningBlocks, ...content],
      stop_reason: stopReason,
      stop_sequence: stopSequence ?? null,
      usage,
    };
    response.writeHead(200, { "content-type": "application/json" });
    return response.end(malformed ? malformedMessage(malformed.kind, message) : JSON.stringify(message));
  }

  response.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
  });
  const send = (type: string, data: Record<string, unknown>) =>
    response.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  const delay = chunkPause(text, options.chunkDelayMs);
  const cutAfter = disconnectAfter(text);
  send("message_start", {
    message: {
      id,
      type: "message",
      role: "assistant",
      model: answeredBy,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { ...usage, output_tokens: 1 },
    },
  });
  let index = 0;
  if (thinking) {
    send("content_block_start", { index, content_block: { type: "thinking", thinking: "", signature: "" } });
    for (const [position, word] of thought.split(" ").entries()) {
      await delay();
      send("content_block_delta", {
        index,
        delta: { type: "thinking_delta", thinking: position === 0 ? word : ` ${word}` },
      });
    }
    send("content_block_delta", { index, delta: { type: "signature_delta", signature: sign(thought) } });
    send("content_block_stop", { index: index++ });
  }
  if (redacted) {
    send("content_block_start", { index, content_block: { type: "redacted_thinking", data: redactedData } });
    send("content_block_stop", { index: index++ });
  }
  if (calls.length > 0) {
    for (const call of calls) {
      send("content_block_start", {
        index,
        content_block: { type: "tool_use", id: call.id, name: call.name, input: {} },
      });
      for (const piece of call.pieces) {
        await delay();
        send("content_block_delta", { index, delta: { type: "input_json_delta", partial_json: piece } });
      }
      send("content_block_stop", { index: index++ });
    }
  } else {
    send("content_block_start", { index, content_block: { type: "text", text: "" } });
    send("ping", {});
    for (const [position, word] of answer.split(" ").entries()) {
      await delay();
      if (response.destroyed) return;
      if (position === cutAfter) return cutConnection(response);
      if (malformed && position === malformed.atWord) {
        response.write(malformedEvent(malformed.kind, index, position === 0 ? word : ` ${word}`));
        if (malformed.kind === "unknown") continue;
        return response.end();
      }
      if (directive(text, "midstream") !== undefined && position === 2) {
        send("error", { error: { type: "overloaded_error", message: "Overloaded" } });
        return response.end();
      }
      send("content_block_delta", {
        index,
        delta: { type: "text_delta", text: position === 0 ? word : ` ${word}` },
      });
    }
    send("content_block_stop", { index });
  }
  // message_delta's usage is cumulative: the final output count.
  send("message_delta", {
    delta: { stop_reason: stopReason, stop_sequence: stopSequence ?? null },
    usage: { output_tokens: usage.output_tokens },
  });
  send("message_stop", {});
  response.end();
}

/**
 * Stream events in place of one word's delta ([emulator:malformed]). `unknown` sends an event type
 * and a delta type Anthropic may add (a reader must ignore both), then the word's delta.
 */
function malformedEvent(kind: Malformation, index: number, word: string): string {
  const event = (type: string, data: Record<string, unknown>) =>
    `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  switch (kind) {
    case "not-json":
      return `event: content_block_delta\ndata: {"type":"content_block_delta","index":${index},"delta":{"type":"text_delta","text":\n\n`;
    case "missing":
      return event("content_block_delta", { index });
    case "wrong-type":
      return event("content_block_delta", { index, delta: { type: "text_delta", text: 42 } });
    case "unknown":
      return [
        event("content_block_annotation", { index, annotation: { kind: "emulated" } }),
        event("content_block_delta", {
          index,
          delta: { type: "citations_delta", citation: { cited_text: "" } },
        }),
        event("content_block_delta", { index, delta: { type: "text_delta", text: word } }),
      ].join("");
  }
}

/** A whole message as [emulator:malformed] asks for it; `unknown` adds a server tool's blocks and fields. */
function malformedMessage(
  kind: Malformation,
  message: Record<string, unknown> & { content: unknown[] },
): string {
  const { content, ...rest } = message;
  switch (kind) {
    case "not-json":
      return JSON.stringify(message).slice(0, 60);
    case "missing":
      return JSON.stringify(rest);
    case "wrong-type":
      return JSON.stringify({ ...rest, content: [{ type: "text", text: 42 }] });
    case "unknown":
      return JSON.stringify({
        ...message,
        container: null,
        content: [
          { type: "server_tool_use", id: "srvtoolu_emu", name: "web_search", input: { query: "x" } },
          { type: "web_search_tool_result", tool_use_id: "srvtoolu_emu", content: [] },
          ...content,
        ],
      });
  }
}

type Block = { type: string; text?: string; thinking?: string; signature?: string; data?: string };
type Message = { role: string; content: string | Block[] };

/** The emulator signs its thinking as Anthropic does: only what it produced verifies. */
const sign = (thinking: string) =>
  `sig_${createHash("sha256").update(`emulator:${thinking}`).digest("base64url").slice(0, 24)}`;
const redactedData = "redacted_emu_RW5jcnlwdGVkIHJlYXNvbmluZw";

/**
 * What Anthropic refuses with a 400 before answering, as its documentation describes: thinking
 * blocks whose signature does not verify, a thinking budget out of range, sampling options thinking
 * does not allow, a tool loop whose last assistant turn does not start with its thinking, and
 * temperatures above 1.
 */
function invalidRequest(body: Record<string, unknown>, messages: Message[]): string | undefined {
  for (const [messageIndex, message] of messages.entries()) {
    if (typeof message.content === "string") continue;
    for (const [blockIndex, block] of message.content.entries()) {
      const at = `messages.${messageIndex}.content.${blockIndex}`;
      if (block.type === "thinking" && block.signature !== sign(block.thinking ?? ""))
        return `${at}: Invalid \`signature\` in \`thinking\` block`;
      if (block.type === "redacted_thinking" && block.data !== redactedData)
        return `${at}: Invalid \`data\` in \`redacted_thinking\` block`;
    }
  }
  if (typeof body.temperature === "number" && body.temperature > 1)
    return "temperature: Input should be less than or equal to 1";
  const thinking = body.thinking as { type?: string; budget_tokens?: number } | undefined;
  if (thinking?.type !== "enabled") return undefined;
  const budget = thinking.budget_tokens ?? 0;
  if (budget < 1024) return "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024";
  if ((body.max_tokens as number) <= budget)
    return "`max_tokens` must be greater than `thinking.budget_tokens`";
  if (body.temperature !== undefined && body.temperature !== 1)
    return "`temperature` may only be set to 1 when thinking is enabled";
  const lastAssistant = messages.findLastIndex((message) => message.role === "assistant");
  const last = messages[lastAssistant];
  if (last && typeof last.content !== "string" && last.content.some((block) => block.type === "tool_use")) {
    const first = last.content[0]?.type;
    if (first !== "thinking" && first !== "redacted_thinking")
      return `messages.${lastAssistant}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${first}\`. When \`thinking\` is enabled, a final \`assistant\` message must start with a thinking block.`;
  }
  return undefined;
}

/** The fields a count_tokens body may have; Anthropic refuses any other ("Extra inputs are not permitted"). */
const countFields = new Set([
  "model",
  "messages",
  "system",
  "tools",
  "tool_choice",
  "thinking",
  "mcp_servers",
  "context_management",
  "output_format",
]);

function countTokens(response: ServerResponse, body: Record<string, unknown>) {
  const extra = Object.keys(body).find((field) => !countFields.has(field));
  if (extra) return sendAnthropicError(response, 400, `${extra}: Extra inputs are not permitted`);
  const messages = (body.messages as Message[] | undefined) ?? [];
  if (typeof body.model !== "string" || messages.length === 0)
    return sendAnthropicError(response, 400, "messages: at least one message is required");
  if (body.model.startsWith("missing")) return sendAnthropicError(response, 404, `model: ${body.model}`);
  response.writeHead(200, { "content-type": "application/json" });
  response.end(
    JSON.stringify({
      input_tokens: emulatedTokenCount(body, ["system", "messages", "tools"], messages, 3),
    }),
  );
}

/** Anthropic's error body, `{"type":"error","error":{type,message}}`. */
export function sendAnthropicError(response: ServerResponse, status: number, message: string) {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(
    JSON.stringify({ type: "error", error: { type: errorTypes[status] ?? "api_error", message } }),
  );
}
