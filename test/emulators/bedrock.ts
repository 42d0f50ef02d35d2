import type { IncomingMessage, ServerResponse } from "node:http";
import { parseServerSentEvents } from "../../workers/providers/http/sse.ts";
import { startAnthropicEmulator } from "./anthropic.ts";
import { type AwsKey, verifySigV4 } from "./aws-sigv4.ts";
import { answerConverse, type ConverseMessage, corruptionOf, invalidConverse } from "./bedrock-converse.ts";
import { cutConnection, directive } from "./directives.ts";
import { EventStreamWriter } from "./event-stream.ts";
import { type Emulator, startJsonServer } from "./json-server.ts";

/**
 * A stand-in for Amazon Bedrock's runtime API, written from AWS's public reference:
 * `POST /model/{modelId}/{converse|converse-stream|invoke|invoke-with-response-stream|count-tokens}`
 * (the id URL-encoded), every request SigV4-signed (checked with aws-sigv4.ts: a wrong secret, an
 * altered body, a missing or expired session token get AWS's 403s), errors as
 * `x-amzn-ErrorType: Name:namespace` with `{"message"}`, streams in the binary event-stream
 * framing (event-stream.ts) with exceptions inside them.
 *
 * Anthropic models (`anthropic.…`, `us.anthropic.…`) take InvokeModel in Anthropic's body with
 * `anthropic_version: "bedrock-2023-05-31"` and no `model` or `stream`: Bedrock serves Anthropic's
 * own API, so the emulator hands the body to an Anthropic emulator and frames its answer (each SSE
 * event as a `chunk` of base64 bytes). Titan (`{inputText, dimensions}`) and Cohere (`{texts,
 * input_type}`) embed through InvokeModel; every other model answers Converse (bedrock-converse.ts).
 *
 * The prompt steers it, beside what directives.ts and the Anthropic emulator take:
 *   [emulator:status=N]      answer that HTTP status with Bedrock's error for it
 *   [emulator:midstream=T]   two words, then an exception of type T (default modelStreamErrorException;
 *                            on InvokeModel streams, the Anthropic error event becomes the exception)
 *   [emulator:corrupt=KIND]  flip a bit in the second frame's prelude or payload (CRC mismatch)
 *   [emulator:calls=N] [emulator:length] [emulator:refusal] [emulator:cached]
 *   [emulator:reasoning-content]  Converse: reason first, in a signed reasoningContent block
 */
export interface BedrockEmulator extends Emulator {
  /** Accepts another key from now on (temporary ones that the STS emulator issued). */
  allow(accessKeyId: string, key: AwsKey): void;
}

const errorTypes: Record<number, string> = {
  400: "ValidationException",
  403: "AccessDeniedException",
  404: "ResourceNotFoundException",
  408: "ModelTimeoutException",
  424: "ModelErrorException",
  429: "ThrottlingException",
  500: "InternalServerException",
  503: "ServiceUnavailableException",
};

interface Options {
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  chunkDelayMs?: number;
}

export async function startBedrockEmulator(options: Options): Promise<BedrockEmulator> {
  const keys = new Map<string, AwsKey>([
    [options.accessKeyId, { secretAccessKey: options.secretAccessKey, sessionToken: options.sessionToken }],
  ]);
  const anthropic = await startAnthropicEmulator({
    apiKey: "bedrock-internal",
    chunkDelayMs: options.chunkDelayMs,
  });
  const server = await startJsonServer({
    handle: async (request, response, body, injected, raw) => {
      const refused = verifySigV4(request, raw, { region: options.region, service: "bedrock", keys });
      if (refused) return sendError(response, refused.status, refused.message, refused.type);
      return handle(request, response, body, `${promptOf(body)} ${injected}`, anthropic.url, options);
    },
    badJson: (response) =>
      sendError(response, 400, "Malformed input request, please reformat your input and try again."),
  });
  const emulator = server.emulatorAt("");
  return {
    ...emulator,
    inject(directives) {
      emulator.inject(directives);
      anthropic.inject(directives);
    },
    allow: (accessKeyId, key) => keys.set(accessKeyId, key),
    async close() {
      await Promise.all([emulator.close(), anthropic.close()]);
    },
  };
}

async function handle(
  request: IncomingMessage,
  response: ServerResponse,
  body: Record<string, unknown>,
  text: string,
  anthropicUrl: string,
  options: Options,
) {
  const route =
    /^\/model\/([^/]+)\/(converse|converse-stream|invoke|invoke-with-response-stream|count-tokens)$/.exec(
      request.url ?? "",
    );
  if (!route || request.method !== "POST")
    return sendError(response, 404, `Unknown operation ${request.url}`, "UnknownOperationException");
  const model = decodeURIComponent(route[1] as string);
  const action = route[2] as string;
  if (model.startsWith("missing") || model.includes("/"))
    return sendError(response, 404, "The provided model identifier is invalid.");
  const anthropic = /(^|\.)anthropic\./.test(model);
  if (action === "count-tokens") return countTokens(response, body, anthropic);
  const status = Number(directive(text, "status"));
  if (status) return sendError(response, status, `Emulated failure with status ${status}`);
  const streaming = action.endsWith("stream");
  const writer = () => new EventStreamWriter(response, corruptionOf(text));
  if (action.startsWith("converse")) {
    const invalid = invalidConverse(body);
    if (invalid) return sendError(response, 400, invalid);
    return answerConverse(
      request,
      response,
      body,
      text,
      streaming ? writer() : undefined,
      options.chunkDelayMs,
    );
  }
  if (/(^|\.)amazon\.titan-embed|(^|\.)cohere\.embed/.test(model) && !streaming)
    return embed(response, model, body);
  if (!anthropic)
    return sendError(
      response,
      400,
      `The model ${model} does not support this request body in this emulator.`,
    );
  const invalid = invalidInvokeBody(body);
  if (invalid) return sendError(response, 400, invalid);
  const answer = await fetch(`${anthropicUrl}/v1/messages`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-api-key": "bedrock-internal",
      "anthropic-version": "2023-06-01",
    },
    body: JSON.stringify({ ...body, model, ...(streaming && { stream: true }) }),
  }).catch(() => undefined);
  if (!answer) return response.destroy();
  if (answer.status !== 200) {
    const error = (await answer.json()) as { error?: { message?: string } };
    return sendError(response, answer.status === 529 ? 503 : answer.status, error.error?.message ?? "error");
  }
  if (!streaming) {
    response.writeHead(200, { "content-type": "application/json", "x-amzn-bedrock-input-token-count": "10" });
    return response.end(await answer.text());
  }
  const stream = writer();
  try {
    for await (const event of parseServerSentEvents(answer.body as unknown as AsyncIterable<Uint8Array>)) {
      if (event.event === "error")
        return stream.exception(
          directive(text, "midstream") || "serviceUnavailableException",
          "Model is overloaded.",
        );
      stream.event("chunk", { bytes: Buffer.from(event.data).toString("base64") });
    }
    response.end();
  } catch {
    cutConnection(response); // the Anthropic stand-in cut its stream: so does Bedrock
  }
}

/** What InvokeModel refuses in an Anthropic body, in Bedrock's words. */
function invalidInvokeBody(body: Record<string, unknown>): string | undefined {
  if (body.anthropic_version !== "bedrock-2023-05-31")
    return "Malformed input request: #: required key [anthropic_version] not found or not bedrock-2023-05-31";
  for (const key of ["model", "stream"])
    if (key in body) return `Malformed input request: #: extraneous key [${key}] is not permitted`;
  return undefined;
}

const words = (text: string) => text.split(/\s+/).filter(Boolean).length;

/** The last user turn's text, in Converse's blocks or Anthropic's (string or blocks): where directives are. */
function promptOf(body: Record<string, unknown>): string {
  const messages = (body.messages as ConverseMessage[] | undefined) ?? [];
  const last = [...messages].reverse().find((message) => message.role === "user");
  if (typeof last?.content === "string") return last.content;
  return (last?.content ?? []).map((block) => (typeof block.text === "string" ? block.text : "")).join(" ");
}

/** Every text of a conversation (system, messages, tool results), whichever shape it is in. */
function allText(conversation: Record<string, unknown>): string {
  const texts: string[] = [];
  JSON.stringify(conversation, (key, value) => {
    if ((key === "text" || key === "content" || key === "system") && typeof value === "string")
      texts.push(value);
    return value;
  });
  return texts.join(" ");
}

/** CountTokens: one token a word of the conversation's text, plus three a message (its role and framing). */
function countTokens(response: ServerResponse, body: Record<string, unknown>, anthropic: boolean) {
  const input = body.input as
    | { invokeModel?: { body?: string }; converse?: Record<string, unknown> }
    | undefined;
  let conversation: Record<string, unknown> | undefined = input?.converse;
  if (input?.invokeModel) {
    if (!anthropic) return sendError(response, 400, "This model takes a converse input for counting.");
    conversation = JSON.parse(input.invokeModel.body ?? "{}") as Record<string, unknown>;
    const invalid = invalidInvokeBody(conversation);
    if (invalid) return sendError(response, 400, invalid);
  } else if (conversation) {
    const invalid = invalidConverse(conversation);
    if (invalid) return sendError(response, 400, invalid);
  }
  if (!conversation)
    return sendError(response, 400, "input: exactly one of invokeModel or converse is required");
  const messages = (conversation.messages as unknown[] | undefined) ?? [];
  sendJson(response, { inputTokens: words(allText(conversation)) + 3 * messages.length });
}

/** Titan: one text, a vector of `dimensions` (v2: 256, 512 or 1024; v1 takes none). Cohere: many texts, `input_type` required. */
function embed(response: ServerResponse, model: string, body: Record<string, unknown>) {
  const vector = (text: string, size: number) =>
    Array.from({ length: size }, (_, index) => (text.length + index) / 100);
  if (model.includes("titan")) {
    if (typeof body.inputText !== "string")
      return sendError(response, 400, "#: required key [inputText] not found");
    const dimensions = body.dimensions as number | undefined;
    const v1 = model.includes("embed-text-v1");
    if (dimensions !== undefined && (v1 || ![256, 512, 1024].includes(dimensions)))
      return sendError(response, 400, `#/dimensions: ${dimensions} is not a valid enum value`);
    return sendJson(response, {
      embedding: vector(body.inputText, dimensions ?? (v1 ? 1536 : 1024)),
      inputTextTokenCount: words(body.inputText),
    });
  }
  const texts = body.texts as string[] | undefined;
  if (!Array.isArray(texts) || typeof body.input_type !== "string")
    return sendError(response, 400, "Malformed input request: #: required key [input_type] not found");
  response.setHeader("x-amzn-bedrock-input-token-count", String(words(texts.join(" "))));
  sendJson(response, {
    id: "emu-embedding",
    response_type: "embeddings_floats",
    texts,
    embeddings: texts.map((text) => vector(text, 1024)),
  });
}

function sendJson(response: ServerResponse, body: unknown) {
  response.writeHead(200, { "content-type": "application/json", "x-amzn-requestid": "emu-request" });
  response.end(JSON.stringify(body));
}

function sendError(
  response: ServerResponse,
  status: number,
  message: string,
  type = errorTypes[status] ?? "InternalServerException",
) {
  response.writeHead(status, {
    "content-type": "application/json",
    "x-amzn-errortype": `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
    "x-amzn-requestid": "emu-request",
  });
  response.end(JSON.stringify({ message }));
}
