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
 * A stand-in for Google's Gemini API (v1beta), written from its public reference:
 * `models/{model}:generateContent`, `:streamGenerateContent?alt=sse` (SSE `data:` lines, each a
 * GenerateContentResponse with the new parts), `:batchEmbedContents`, the key in `x-goog-api-key`
 * (or `?key=`), `usageMetadata` whose prompt count includes cached tokens, and Google's error body
 * `{"error":{code,message,status,details}}` (429 says when to retry in a RetryInfo detail).
 *
 * Its answer echoes the last user text. The prompt steers it:
 *   [emulator:status=N]   answer that HTTP status with Google's error body
 *   [emulator:midstream]  stream two chunks, then cut the connection
 *   [emulator:cached]     report 40 of the prompt tokens as cached and 12 thinking tokens
 *   [emulator:calls=N]    call the first declared function N times in one turn
 *   [emulator:length]     stop after two words with finishReason MAX_TOKENS
 *   [emulator:refusal]    end with finishReason SAFETY
 *   [emulator:blocked]    block the prompt: promptFeedback.blockReason and no candidates
 *   [emulator:malformed=KIND]  a body or chunk the adapter cannot read (directives.ts)
 * and those every emulator takes (directives.ts). `:countTokens` takes `contents` or a whole
 * `generateContentRequest` (its model named `models/{model}`, as in the path) and answers
 * `totalTokens`: a word of every text of contents, system instruction and tools, and 2 a content
 * (test/emulators/token-count.ts). With `thinkingConfig.includeThoughts` it shows a
 * thought summary (a part with `thought: true`) before the answer.
 */
export type GeminiEmulator = Emulator;

const statuses: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  503: "UNAVAILABLE",
};

export async function startGeminiEmulator(options: {
  apiKey: string;
  chunkDelayMs?: number;
}): Promise<GeminiEmulator> {
  const server = await startJsonServer({
    handle: (request, response, body, injected) => handle(request, response, body, options, injected),
    badJson: (response) => sendGoogleError(response, 400, "Invalid JSON payload received."),
  });
  return server.emulatorAt("/v1beta");
}

async function handle(
  request: IncomingMessage,
  response: ServerResponse,
  body: Record<string, unknown>,
  options: { apiKey: string; chunkDelayMs?: number },
  injected: string,
) {
  const url = new URL(request.url ?? "/", "http://emulator");
  const key = request.headers["x-goog-api-key"] ?? url.searchParams.get("key");
  if (key !== options.apiKey)
    return sendGoogleError(
      response,
      400,
      "API key not valid. Please pass a valid API key.",
      "INVALID_ARGUMENT",
    );
  const route =
    /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent|batchEmbedContents|countTokens)$/.exec(
      url.pathname,
    );
  if (!route) return sendGoogleError(response, 404, `Method not found: ${url.pathname}`);
  const model = decodeURIComponent(route[1] as string);
  if (model.startsWith("missing"))
    return sendGoogleError(response, 404, `models/${model} is not found for API version v1beta.`);
  if (route[2] === "countTokens") return countTokens(response, body, model);
  if (route[2] === "batchEmbedContents") {
    const embedRequests =
      (body.requests as Array<{
        content: { parts: Array<{ text: string }> };
        outputDimensionality?: number;
      }>) ?? [];
    return sendJson(response, 200, {
      embeddings: embedRequests.map((item) => ({
        values: emulatedEmbedding(item.content.parts[0]?.text ?? "", item.outputDimensionality),
      })),
    });
  }
  const method = route[2] as "generateContent" | "streamGenerateContent";
  return answerGenerateContent(request, response, body, { model, method, url }, options, injected);
}

/** The emulator's embedding of a text: `dimensions` numbers (8 by default) that follow from its length. */
export const emulatedEmbedding = (text: string, dimensions = 8) =>
  Array.from({ length: dimensions }, (_, index) => (text.length + index) / 10);

/**
 * The answer to generateContent or streamGenerateContent, steered by the prompt's directives: the
 * Gemini API's, and Vertex AI's for Google's models (test/emulators/vertex.ts), which mounts it.
 */
export async function answerGenerateContent(
  request: IncomingMessage,
  response: ServerResponse,
  body: Record<string, unknown>,
  call: { model: string; method: "generateContent" | "streamGenerateContent"; url: URL },
  options: { chunkDelayMs?: number },
  injected: string,
) {
  const { model, method, url } = call;

  const contents =
    (body.contents as Array<{ role: string; parts: Array<{ text?: string }> }> | undefined) ?? [];
  if (contents.length === 0)
    return sendGoogleError(response, 400, "* GenerateContentRequest.contents: contents is not specified");
  const lastUser = [...contents].reverse().find((content) => content.role === "user");
  const text = `${(lastUser?.parts ?? []).map((part) => part.text ?? "").join(" ")} ${injected}`;
  const status = Number(directive(text, "status"));
  if (status) return sendGoogleError(response, status, `Emulated failure with status ${status}`);
  if (await beforeAnswer(text, request)) return;

  let words = `Echo: ${withoutDirectives(text)}`.split(/\s+/);
  let finishReason = "STOP";
  if (text.includes("[emulator:length]")) {
    words = words.slice(0, 2);
    finishReason = "MAX_TOKENS";
  } else if (text.includes("[emulator:refusal]")) finishReason = "SAFETY";
  const declarations = (
    (body.tools as Array<{ functionDeclarations?: Array<{ name: string }> }> | undefined) ?? []
  ).flatMap((tool) => tool.functionDeclarations ?? []);
  const calling = body.toolConfig as
    | { functionCallingConfig?: { mode?: string; allowedFunctionNames?: string[] } }
    | undefined;
  const callCount = Number(
    directive(text, "calls") ?? (calling?.functionCallingConfig?.mode === "ANY" ? 1 : 0),
  );
  const called = calling?.functionCallingConfig?.allowedFunctionNames?.[0] ?? declarations[0]?.name;
  const cached = directive(text, "cached") !== undefined;
  const thinking = body.generationConfig as { thinkingConfig?: { includeThoughts?: boolean } } | undefined;
  const thought = thinking?.thinkingConfig?.includeThoughts
    ? `Thinking about: ${withoutDirectives(text)}`
    : "";
  const thoughtsTokenCount = (cached ? 12 : 0) + (thought === "" ? 0 : thought.split(" ").length);
  const thoughtParts = thought === "" ? [] : [{ text: thought, thought: true }];
  const promptTokenCount = 50;
  const usageMetadata = {
    promptTokenCount,
    candidatesTokenCount: words.length,
    totalTokenCount: promptTokenCount + words.length + thoughtsTokenCount,
    ...(cached && { cachedContentTokenCount: 40 }),
    ...(thoughtsTokenCount > 0 && { thoughtsTokenCount }),
  };
  const functionCalls = called
    ? Array.from({ length: callCount }, (_, index) => ({
        functionCall: { name: called, args: { n: index } },
      }))
    : [];

  const malformed = malformation(text);
  if (directive(text, "blocked") !== undefined) {
    // Gemini answers a prompt it blocks with no candidates at all, only the reason.
    const blocked = {
      promptFeedback: { blockReason: "PROHIBITED_CONTENT" },
      usageMetadata: { promptTokenCount, totalTokenCount: promptTokenCount },
      modelVersion: `${model}-001`,
      responseId: "emu-response",
    };
    if (method === "generateContent") return sendJson(response, 200, blocked);
    response.writeHead(200, { "content-type": "text/event-stream" });
    return response.end(`data: ${JSON.stringify(blocked)}\r\n\r\n`);
  }
  if (method === "generateContent") {
    const parts = [
      ...thoughtParts,
      ...(functionCalls.length > 0 ? functionCalls : [{ text: words.join(" ") }]),
    ];
    const answer = {
      candidates: [
        {
          content: { parts, role: "model" },
          finishReason: functionCalls.length > 0 ? "STOP" : finishReason,
          index: 0,
        },
      ],
      usageMetadata,
      modelVersion: `${model}-001`,
      responseId: "emu-response",
    };
    if (malformed) return sendMalformed(response, malformed.kind, answer);
    return sendJson(response, 200, answer);
  }
  if (url.searchParams.get("alt") !== "sse")
    return sendGoogleError(response, 400, "streaming needs alt=sse in this emulator");
  response.writeHead(200, { "content-type": "text/event-stream" });
  const chunk = (payload: Record<string, unknown>) =>
    response.write(
      `data: ${JSON.stringify({ ...payload, modelVersion: `${model}-001`, responseId: "emu-response" })}\r\n\r\n`,
    );
  const delay = chunkPause(text, options.chunkDelayMs);
  const cutAfter = disconnectAfter(text);
  if (thoughtParts.length > 0)
    chunk({ candidates: [{ content: { parts: thoughtParts, role: "model" }, index: 0 }] });
  if (functionCalls.length > 0) {
    chunk({
      candidates: [{ content: { parts: functionCalls, role: "model" }, finishReason: "STOP", index: 0 }],
      usageMetadata,
    });
    return response.end();
  }
  for (const [index, word] of words.entries()) {
    await delay();
    if (response.destroyed) return;
    if (index === cutAfter || (directive(text, "midstream") !== undefined && index === 2))
      return cutConnection(response);
    if (malformed && index === malformed.atWord) {
      response.write(malformedChunk(malformed.kind, index === 0 ? word : ` ${word}`));
      if (malformed.kind === "unknown") continue;
      return response.end();
    }
    const last = index === words.length - 1;
    chunk({
      candidates: [
        {
          content: { parts: [{ text: index === 0 ? word : ` ${word}` }], role: "model" },
          ...(last && { finishReason }),
          index: 0,
        },
      ],
      usageMetadata: last
        ? usageMetadata
        : {
            promptTokenCount,
            candidatesTokenCount: index + 1,
            totalTokenCount: promptTokenCount + index + 1,
          },
    });
  }
  response.end();
}

/**
 * A streamed response in place of one word's ([emulator:malformed]). `unknown` carries the word
 * beside a part of a kind the adapter does not map (code execution) and fields it does not read.
 */
function malformedChunk(kind: Malformation, word: string): string {
  const chunk = (parts: unknown[], extra: Record<string, unknown> = {}) =>
    `data: ${JSON.stringify({ candidates: [{ content: { parts, role: "model" }, index: 0 }], ...extra })}\r\n\r\n`;
  switch (kind) {
    case "not-json":
      return `data: {"candidates":[{"content":{"parts":[{"text":${JSON.stringify(word)}\r\n\r\n`;
    case "missing":
      return chunk([{ functionCall: { args: { n: 0 } } }]);
    case "wrong-type":
      return chunk([{ text: 42 }]);
    case "unknown":
      return chunk([{ executableCode: { language: "PYTHON", code: "print(1)" } }, { text: word }], {
        groundingMetadata: {},
      });
  }
}

/** A whole response as [emulator:malformed] asks for it. */
function sendMalformed(response: ServerResponse, kind: Malformation, answer: Record<string, unknown>) {
  const { candidates, ...rest } = answer as { candidates: Array<{ content: { parts: unknown[] } }> };
  const body = {
    "not-json": () => JSON.stringify(answer).slice(0, 60),
    missing: () => JSON.stringify(rest),
    "wrong-type": () =>
      JSON.stringify({ ...rest, candidates: [{ content: { parts: [{ text: 42 }] }, index: 0 }] }),
    unknown: () =>
      JSON.stringify({
        ...rest,
        groundingMetadata: {},
        candidates: candidates.map((candidate) => ({
          ...candidate,
          safetyRatings: [],
          content: {
            ...candidate.content,
            parts: [{ executableCode: { language: "PYTHON", code: "print(1)" } }, ...candidate.content.parts],
          },
        })),
      }),
  }[kind]();
  response.writeHead(200, { "content-type": "application/json; charset=UTF-8" });
  response.end(body);
}

function countTokens(response: ServerResponse, body: Record<string, unknown>, model: string) {
  const whole = body.generateContentRequest as Record<string, unknown> | undefined;
  if (whole && body.contents)
    return sendGoogleError(response, 400, "contents and generateContentRequest cannot both be set.");
  if (whole && whole.model !== `models/${model}`)
    return sendGoogleError(
      response,
      400,
      `* CountTokensRequest.generate_content_request.model: must be models/${model}`,
    );
  const request = whole ?? body;
  const contents = (request.contents as unknown[] | undefined) ?? [];
  if (contents.length === 0)
    return sendGoogleError(response, 400, "* CountTokensRequest.contents: contents is not specified");
  const totalTokens = emulatedTokenCount(request, ["contents", "systemInstruction", "tools"], contents, 2);
  return sendJson(response, 200, {
    totalTokens,
    promptTokensDetails: [{ modality: "TEXT", tokenCount: totalTokens }],
  });
}

function sendJson(response: ServerResponse, status: number, body: unknown) {
  response.writeHead(status, { "content-type": "application/json; charset=UTF-8" });
  response.end(JSON.stringify(body));
}

/** Google's error body, `{"error":{code,message,status}}` (429 with a RetryInfo detail): every Google API's. */
export function sendGoogleError(
  response: ServerResponse,
  code: number,
  message: string,
  status = statuses[code] ?? "UNKNOWN",
) {
  sendJson(response, code, {
    error: {
      code,
      message,
      status,
      ...(code === 429 && {
        details: [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "7s" }],
      }),
    },
  });
}
