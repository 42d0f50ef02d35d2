import type { IncomingMessage, ServerResponse } from "node:http";
import { type RecordedRequest, startJsonServer } from "./json-server.ts";

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
 */
export interface AnthropicEmulator {
  readonly url: string;
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

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
    handle: (request, response, body) => handle(request, response, body, options),
    badJson: (response) => sendError(response, 400, "messages: request body is not valid JSON"),
  });
  return { url: server.origin, requests: server.requests, close: server.close };
}

async function handle(
  request: IncomingMessage,
  response: ServerResponse,
  body: Record<string, unknown>,
  options: { apiKey: string; chunkDelayMs?: number },
) {
  if (request.headers["x-api-key"] !== options.apiKey) return sendError(response, 401, "invalid x-api-key");
  if (!request.headers["anthropic-version"])
    return sendError(response, 400, "anthropic-version: header is required");
  if (request.url !== "/v1/messages" || request.method !== "POST")
    return sendError(response, 404, `Not found: ${request.method} ${request.url}`);
  if (typeof body.max_tokens !== "number") return sendError(response, 400, "max_tokens: Field required");
  const messages = (body.messages as Array<{ role: string; content: unknown }> | undefined) ?? [];
  if (typeof body.model !== "string" || messages.length === 0)
    return sendError(response, 400, "messages: at least one message is required");
  if (body.model.startsWith("missing")) return sendError(response, 404, `model: ${body.model}`);

  const lastUser = [...messages].reverse().find((message) => message.role === "user");
  const text =
    typeof lastUser?.content === "string"
      ? lastUser.content
      : ((lastUser?.content as Array<{ type: string; text?: string }> | undefined) ?? [])
          .filter((block) => block.type === "text")
          .map((block) => block.text)
          .join(" ");
  const status = Number(/\[emulator:status=(\d+)\]/.exec(text)?.[1]);
  if (status) {
    if (status === 429 || status === 529) response.setHeader("retry-after", "3");
    return sendError(
      response,
      status,
      status === 529 ? "Overloaded" : `Emulated failure with status ${status}`,
    );
  }

  let words = `Echo: ${text.replace(/\[emulator:[^\]]*\]/g, "").trim()}`.split(/\s+/);
  const tools = (body.tools as Array<{ name: string }> | undefined) ?? [];
  const choice = body.tool_choice as { type: string; name?: string } | undefined;
  const toolName = choice?.type === "tool" ? choice.name : tools[0]?.name;
  const callCount = Number(
    /\[emulator:calls=(\d+)\]/.exec(text)?.[1] ?? (choice?.type === "any" || choice?.type === "tool" ? 1 : 0),
  );
  const calls = toolName
    ? Array.from({ length: callCount }, (_, index) => ({
        id: `toolu_emu0${index}`,
        name: toolName,
        input: { n: index },
        pieces: ['{"n": ', `${index}}`],
      }))
    : [];
  const cached = text.includes("[emulator:cached]");
  let stopReason = calls.length > 0 ? "tool_use" : "end_turn";
  if (calls.length === 0 && text.includes("[emulator:length]")) {
    words = words.slice(0, 2);
    stopReason = "max_tokens";
  } else if (calls.length === 0 && text.includes("[emulator:refusal]")) stopReason = "refusal";
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
    output_tokens: calls.length > 0 ? 7 * calls.length : answer.split(" ").length,
  };
  const id = `msg_emu${Date.now().toString(36)}`;
  const model = `${body.model}-20250101`;
  response.setHeader("anthropic-ratelimit-requests-remaining", "999");
  response.setHeader("request-id", `req_emu${Date.now().toString(36)}`);

  if (body.stream !== true) {
    const content =
      calls.length > 0
        ? calls.map((call) => ({ type: "tool_use", id: call.id, name: call.name, input: call.input }))
        : [{ type: "text", text: answer }];
    response.writeHead(200, { "content-type": "application/json" });
    return response.end(
      JSON.stringify({
        id,
        type: "message",
        role: "assistant",
        model,
        content,
        stop_reason: stopReason,
        stop_sequence: stopSequence ?? null,
        usage,
      }),
    );
  }

  response.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
  });
  const send = (type: string, data: Record<string, unknown>) =>
    response.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  const delay = () =>
    options.chunkDelayMs
      ? new Promise((resolve) => setTimeout(resolve, options.chunkDelayMs))
      : Promise.resolve();
  send("message_start", {
    message: {
      id,
      type: "message",
      role: "assistant",
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { ...usage, output_tokens: 1 },
    },
  });
  if (calls.length > 0) {
    for (const [index, call] of calls.entries()) {
      send("content_block_start", {
        index,
        content_block: { type: "tool_use", id: call.id, name: call.name, input: {} },
      });
      for (const piece of call.pieces) {
        await delay();
        send("content_block_delta", { index, delta: { type: "input_json_delta", partial_json: piece } });
      }
      send("content_block_stop", { index });
    }
  } else {
    send("content_block_start", { index: 0, content_block: { type: "text", text: "" } });
    send("ping", {});
    for (const [index, word] of answer.split(" ").entries()) {
      await delay();
      if (text.includes("[emulator:midstream]") && index === 2) {
        send("error", { error: { type: "overloaded_error", message: "Overloaded" } });
        return response.end();
      }
      send("content_block_delta", {
        index: 0,
        delta: { type: "text_delta", text: index === 0 ? word : ` ${word}` },
      });
    }
    send("content_block_stop", { index: 0 });
  }
  // message_delta's usage is cumulative: the final output count.
  send("message_delta", {
    delta: { stop_reason: stopReason, stop_sequence: stopSequence ?? null },
    usage: { output_tokens: usage.output_tokens },
  });
  send("message_stop", {});
  response.end();
}

function sendError(response: ServerResponse, status: number, message: string) {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(
    JSON.stringify({ type: "error", error: { type: errorTypes[status] ?? "api_error", message } }),
  );
}
