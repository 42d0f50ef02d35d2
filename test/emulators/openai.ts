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

/**
 * A stand-in for OpenAI's API, written from its public reference: Chat Completions (whole and
 * streamed as `chat.completion.chunk` SSE with `data: [DONE]`, usage on request), Embeddings,
 * error bodies `{"error":{message,type,param,code}}` and x-ratelimit-* headers. It answers at once
 * (or after `chunkDelayMs` per streamed chunk) and keeps every request it received.
 *
 * Its answer echoes the last user message. The prompt steers it:
 *   [emulator:status=429]  answer that HTTP status with OpenAI's error body (429: retry-after 2,
 *                          or retry-after-ms N with [emulator:retry-after-ms=N])
 *   [emulator:midstream]   stream two words, then an error event
 *   [emulator:cached=N]    report N more prompt tokens, read from the cache
 * Without it, it caches prompts as OpenAI does: a prompt whose first messages, 1024 tokens or
 * more, were seen before reports them (in steps of 128) as cached tokens.
 *   [emulator:reasoning-content]  show reasoning as `reasoning_content`, as DeepSeek and vLLM do
 *   [emulator:malformed=KIND]     a body or chunk the adapter cannot read (directives.ts)
 * the directives of `planAnswer` below and those every emulator takes (directives.ts). With
 * `reasoning_effort` it reports reasoning tokens, as OpenAI's reasoning models do.
 */
export interface OpenAIEmulator extends Emulator {
  /** TCP connections accepted so far: keep-alive reuse shows as few connections for many requests. */
  readonly connections: () => number;
  /**
   * What it billed for each chat answer it began, as a provider does: the prompt, and the output
   * it generated — all of it for a whole answer, the tokens it wrote for a stream, also one whose
   * client went away.
   */
  readonly bills: Bill[];
}

export interface Bill {
  /** The last user message, by which a test finds its request. */
  prompt: string;
  inputTokens: number;
  outputTokens: number;
}

export interface OpenAIEmulatorOptions {
  /** The key it accepts; none: any caller (a local vLLM or Ollama). */
  apiKey?: string;
  /**
   * `azure`: Azure OpenAI's layout instead: /openai/deployments/{deployment}/chat/completions (and
   * /embeddings) with a required api-version query and the key in the `api-key` header.
   */
  flavour?: "openai" | "azure";
  port?: number;
  chunkDelayMs?: number;
  /** Keep received requests (tests); off for benchmarks. */
  record?: boolean;
}

export async function startOpenAIEmulator(options: OpenAIEmulatorOptions): Promise<OpenAIEmulator> {
  const state = { ...options, promptCache: createPromptCache(), bills: [] as Bill[] };
  const server = await startJsonServer({
    handle: (request, response, body, injected) => handle(request, response, body, state, injected),
    badJson: (response) =>
      sendError(
        response,
        400,
        "We could not parse the JSON body of your request.",
        "invalid_request_error",
        null,
      ),
    record: options.record,
    port: options.port,
  });
  return { ...server.emulatorAt("/v1"), connections: server.connections, bills: state.bills };
}

async function handle(
  request: IncomingMessage,
  response: ServerResponse,
  body: Record<string, unknown>,
  options: OpenAIEmulatorOptions & { promptCache: PromptCache; bills: Bill[] },
  injected: string,
) {
  const azure = options.flavour === "azure";
  const presented = azure
    ? String(request.headers["api-key"] ?? "")
    : (request.headers.authorization?.replace(/^Bearer /, "") ?? "");
  if (options.apiKey !== undefined && presented !== options.apiKey) {
    // OpenAI echoes a masked key in this message; a gateway must not pass it on.
    const masked = `${presented.slice(0, 3)}*********${presented.slice(-4)}`;
    return sendError(
      response,
      401,
      `Incorrect API key provided: ${masked}. You can find your API key at https://platform.openai.com/account/api-keys.`,
      "invalid_request_error",
      "invalid_api_key",
    );
  }
  if (request.method !== "POST")
    return sendError(response, 405, "Method not allowed", "invalid_request_error", null);
  const url = new URL(request.url ?? "/", "http://emulator");
  let operation = url.pathname.replace(/^\/v1\//, "");
  // Azure names the model in the URL (the deployment); the body's model, if any, is ignored.
  let requestedModel = body.model;
  if (azure) {
    const deployment = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|embeddings)$/.exec(url.pathname);
    if (!deployment || !url.searchParams.get("api-version")) {
      return sendError(response, 404, "Resource not found", "invalid_request_error", "404");
    }
    requestedModel = decodeURIComponent(deployment[1] as string);
    operation = deployment[2] as string;
  }
  if (operation === "embeddings")
    return embeddings(request, response, { ...body, model: requestedModel }, injected);
  if (operation !== "chat/completions")
    return sendError(response, 404, `Invalid URL (POST ${request.url})`, "invalid_request_error", null);

  const messages = (body.messages as Array<{ role: string; content: unknown }> | undefined) ?? [];
  if (typeof requestedModel !== "string" || messages.length === 0) {
    return sendError(
      response,
      400,
      "you must provide a model parameter and messages",
      "invalid_request_error",
      null,
    );
  }
  if (requestedModel.startsWith("missing")) {
    return sendError(
      response,
      404,
      `The model \`${requestedModel}\` does not exist or you do not have access to it.`,
      "invalid_request_error",
      "model_not_found",
    );
  }
  const lastUser = [...messages].reverse().find((message) => message.role === "user");
  const prompt =
    typeof lastUser?.content === "string" ? lastUser.content : JSON.stringify(lastUser?.content ?? "");
  const text = `${prompt} ${injected}`;
  const invalid = invalidOption(body);
  if (invalid) return sendError(response, 400, invalid, "invalid_request_error", "invalid_value");
  const status = Number(directive(text, "status"));
  if (status) {
    if (status === 429) {
      const retryAfterMs = directive(text, "retry-after-ms");
      if (retryAfterMs !== undefined) response.setHeader("retry-after-ms", retryAfterMs);
      else response.setHeader("retry-after", "2");
      response.setHeader("x-ratelimit-remaining-requests", "0");
    }
    return sendError(
      response,
      status,
      `Emulated failure with status ${status}`,
      status === 429 ? "requests" : "server_error",
      status === 429 ? "rate_limit_exceeded" : null,
    );
  }

  if (await beforeAnswer(text, request)) return;
  const plan = planAnswer(text, body);
  const messageTokens = messages.map((message) => JSON.stringify(message.content ?? "").split(/\s+/).length);
  const directed = directive(text, "cached");
  const promptTokens =
    messageTokens.reduce((sum, tokens) => sum + tokens, 0) + (directed === undefined ? 0 : Number(directed));
  const cachedTokens =
    directed === undefined ? options.promptCache(messages, messageTokens) : Number(directed);
  const reasoningTokens = typeof body.reasoning_effort === "string" ? plan.reasoning.split(" ").length : 0;
  const completionTokens =
    (plan.calls.length > 0 ? 5 * plan.calls.length : plan.words.length) + reasoningTokens;
  const usage = {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: cachedTokens, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: reasoningTokens,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
  const id = `chatcmpl-emu${Date.now().toString(36)}`;
  const created = Math.floor(Date.now() / 1000);
  const model = `${requestedModel}-2025-01-01`;
  rateLimitHeaders(response);

  const bill = { prompt, inputTokens: promptTokens, outputTokens: 0 };
  options.bills.push(bill);
  const malformed = malformation(text);
  if (body.stream !== true) {
    bill.outputTokens = completionTokens;
    const message =
      plan.calls.length > 0
        ? {
            role: "assistant",
            content: null,
            refusal: null,
            tool_calls: plan.calls.map((call) => ({
              id: call.id,
              type: "function",
              function: { name: call.name, arguments: call.arguments },
            })),
          }
        : { role: "assistant", content: plan.words.join(" "), refusal: null };
    const shown = plan.showReasoning ? { reasoning_content: plan.reasoning } : {};
    const completion = {
      id,
      object: "chat.completion",
      created,
      model,
      choices: [
        { index: 0, message: { ...message, ...shown }, logprobs: null, finish_reason: plan.finishReason },
      ],
      usage,
      service_tier: "default",
      system_fingerprint: "fp_emulator",
    };
    if (malformed) return sendMalformed(response, malformed.kind, completion);
    return sendJson(response, 200, completion);
  }

  response.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    connection: "keep-alive",
  });
  const includeUsage =
    (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model, system_fingerprint: "fp_emulator", choices, ...(includeUsage && { usage: null }), ...extra })}\n\n`;
  const delta = (content: Record<string, unknown>, finishReason: string | null = null) =>
    chunk([{ index: 0, delta: content, logprobs: null, finish_reason: finishReason }]);
  const delay = chunkPause(text, options.chunkDelayMs);
  response.write(delta({ role: "assistant", content: "", refusal: null }));
  if (plan.showReasoning) {
    for (const [index, word] of plan.reasoning.split(" ").entries()) {
      await delay();
      response.write(delta({ reasoning_content: index === 0 ? word : ` ${word}` }));
      bill.outputTokens++;
    }
  }
  for (const [index, call] of plan.calls.entries()) {
    response.write(
      delta({
        tool_calls: [{ index, id: call.id, type: "function", function: { name: call.name, arguments: "" } }],
      }),
    );
    for (const piece of call.pieces) {
      await delay();
      response.write(delta({ tool_calls: [{ index, function: { arguments: piece } }] }));
    }
  }
  for (const [index, word] of plan.words.entries()) {
    await delay();
    if (response.destroyed) return;
    if (index === plan.disconnectAfter) return cutConnection(response);
    if (malformed && index === malformed.atWord) {
      response.write(malformedChunk(malformed.kind, index === 0 ? word : ` ${word}`, chunk));
      if (malformed.kind === "unknown") continue;
      return response.end();
    }
    if (plan.failMidstream && index === 2) {
      response.write(
        `data: ${JSON.stringify({ error: { message: "The server had an error while processing your request.", type: "server_error", param: null, code: null } })}\n\n`,
      );
      return response.end();
    }
    response.write(delta({ content: index === 0 ? word : ` ${word}` }));
    bill.outputTokens++;
  }
  bill.outputTokens = completionTokens;
  response.write(delta({}, plan.finishReason));
  if (includeUsage) response.write(chunk([], { usage }));
  response.end("data: [DONE]\n\n");
}

/**
 * What to answer, from the prompt's directives and the tools offered:
 *   [emulator:calls=N]   call the first tool N times at once (also: tool_choice required or named: once)
 *   [emulator:length]    stop after two words, as if max_tokens ran out
 *   [emulator:refusal]   end with finish_reason content_filter
 * With `parallel_tool_calls: false` it makes one call at most.
 */
function planAnswer(text: string, body: Record<string, unknown>) {
  const tools = (body.tools as Array<{ function: { name: string } }> | undefined) ?? [];
  const toolChoice = body.tool_choice as string | { function: { name: string } } | undefined;
  const named = typeof toolChoice === "object" ? toolChoice.function.name : undefined;
  const asked = Number(directive(text, "calls") ?? (named || toolChoice === "required" ? 1 : 0));
  const callCount = body.parallel_tool_calls === false ? Math.min(asked, 1) : asked;
  const toolName = named ?? tools[0]?.function.name;
  const calls = toolName
    ? Array.from({ length: callCount }, (_, index) => ({
        id: `call_emu_${index}`,
        name: toolName,
        arguments: `{"n":${index}}`,
        pieces: ['{"n":', `${index}}`],
      }))
    : [];
  let words = `Echo: ${withoutDirectives(text)}`.split(/\s+/);
  let finishReason = calls.length > 0 ? "tool_calls" : "stop";
  if (calls.length > 0) words = [];
  else if (text.includes("[emulator:length]")) {
    words = words.slice(0, 2);
    finishReason = "length";
  } else if (text.includes("[emulator:refusal]")) finishReason = "content_filter";
  return {
    calls,
    words,
    finishReason,
    reasoning: `Thinking about: ${withoutDirectives(text)}`,
    showReasoning: directive(text, "reasoning-content") !== undefined,
    failMidstream: directive(text, "midstream") !== undefined,
    disconnectAfter: disconnectAfter(text),
  };
}

/** A stream chunk in place of one word's ([emulator:malformed]); an `unknown` one still carries the word. */
function malformedChunk(
  kind: Malformation,
  word: string,
  chunk: (choices: unknown[], extra?: Record<string, unknown>) => string,
): string {
  const choice = { index: 0, delta: { content: word }, logprobs: null, finish_reason: null };
  switch (kind) {
    case "not-json":
      return `data: {"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":${JSON.stringify(word)}\n\n`;
    case "missing":
      return chunk([{ delta: choice.delta, logprobs: null, finish_reason: null }]);
    case "wrong-type":
      return chunk([{ ...choice, delta: { content: 42 } }]);
    case "unknown":
      // OpenAI adds fields now and then (`obfuscation` in 2025); a reader ignores those it does not know.
      return chunk([{ ...choice, delta: { ...choice.delta, annotations: [] }, content_filter_results: {} }], {
        obfuscation: "Xk3q",
      });
  }
}

/** A whole completion as [emulator:malformed] asks for it. */
function sendMalformed(response: ServerResponse, kind: Malformation, completion: Record<string, unknown>) {
  const { choices, ...rest } = completion as { choices: Array<Record<string, unknown>> };
  const body = {
    "not-json": () => JSON.stringify(completion).slice(0, 60),
    missing: () => JSON.stringify(rest),
    "wrong-type": () =>
      JSON.stringify({
        ...rest,
        choices: [{ index: 0, message: { role: "assistant", content: 42 }, finish_reason: "stop" }],
      }),
    unknown: () =>
      JSON.stringify({
        ...rest,
        obfuscation: "Xk3q",
        choices: choices.map((choice) => ({
          ...choice,
          content_filter_results: {},
          message: { ...(choice.message as object), annotations: [] },
        })),
      }),
  }[kind]();
  response.writeHead(200, { "content-type": "application/json" });
  response.end(body);
}

/** Values OpenAI refuses with a 400 (the gateway should have refused or mapped them first). */
function invalidOption(body: Record<string, unknown>): string | undefined {
  const efforts = ["none", "minimal", "low", "medium", "high", "xhigh"];
  if (body.reasoning_effort !== undefined && !efforts.includes(String(body.reasoning_effort)))
    return `Invalid value: '${body.reasoning_effort}'. Supported values are: ${efforts.map((effort) => `'${effort}'`).join(", ")}.`;
  if (typeof body.temperature === "number" && (body.temperature < 0 || body.temperature > 2))
    return `Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got ${body.temperature} instead.`;
  return undefined;
}

type PromptCache = (messages: unknown[], messageTokens: number[]) => number;

/** OpenAI's automatic prompt caching, per emulator (one per deployment): prefixes of whole messages. */
function createPromptCache(): PromptCache {
  const seen = new Set<string>();
  return (messages, messageTokens) => {
    let hash = "";
    let tokens = 0;
    let cached = 0;
    for (const [index, message] of messages.entries()) {
      hash = createHash("sha256").update(hash).update(JSON.stringify(message)).digest("base64");
      tokens += messageTokens[index] ?? 0;
      if (seen.has(hash)) cached = tokens;
      seen.add(hash);
    }
    return cached >= 1024 ? Math.floor(cached / 128) * 128 : 0;
  };
}

async function embeddings(
  request: IncomingMessage,
  response: ServerResponse,
  body: Record<string, unknown>,
  injected: string,
) {
  const inputs = typeof body.input === "string" ? [body.input] : ((body.input as string[] | undefined) ?? []);
  if (await beforeAnswer(`${inputs.join(" ")} ${injected}`, request)) return;
  const dimensions = typeof body.dimensions === "number" ? body.dimensions : 64;
  rateLimitHeaders(response);
  sendJson(response, 200, {
    object: "list",
    data: inputs.map((text, index) => ({
      object: "embedding",
      index,
      embedding: lexicalEmbedding(text, dimensions),
    })),
    model: body.model,
    usage: { prompt_tokens: inputs.length, total_tokens: inputs.length },
  });
}

/**
 * Embeddings whose similarity follows shared words, as real ones roughly do for paraphrases: each
 * word (lower case, without punctuation) adds a signed unit to a hashed dimension; the vector is
 * normalised. Deterministic, so tests and measurements repeat.
 */
function lexicalEmbedding(text: string, dimensions: number): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  for (const word of text.toLowerCase().match(/[a-z0-9']+/g) ?? []) {
    const digest = createHash("sha256").update(word).digest();
    const slot = digest.readUInt32BE(0) % dimensions;
    vector[slot] = (vector[slot] ?? 0) + ((digest[4] as number) % 2 === 0 ? 1 : -1);
  }
  const norm = Math.hypot(...vector) || 1;
  return vector.map((value) => value / norm);
}

function rateLimitHeaders(response: ServerResponse) {
  response.setHeader("x-ratelimit-limit-requests", "10000");
  response.setHeader("x-ratelimit-remaining-requests", "9999");
  response.setHeader("x-ratelimit-reset-requests", "6ms");
  response.setHeader("x-request-id", `req_emu${Date.now().toString(36)}`);
}

function sendJson(response: ServerResponse, status: number, body: unknown) {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}

function sendError(
  response: ServerResponse,
  status: number,
  message: string,
  type: string,
  code: string | null,
) {
  sendJson(response, status, { error: { message, type, param: null, code } });
}
