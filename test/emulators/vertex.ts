import type { IncomingMessage, ServerResponse } from "node:http";
import { answerMessages, sendAnthropicError } from "./anthropic.ts";
import { answerGenerateContent, emulatedEmbedding, sendGoogleError } from "./gemini.ts";
import {
  type GoogleTokenEndpoint,
  type ServiceAccountKey,
  startGoogleTokenEndpoint,
} from "./google-oauth.ts";
import { type Emulator, startJsonServer } from "./json-server.ts";

/**
 * A stand-in for Vertex AI, written from its public reference, under
 * `/v1/projects/{project}/locations/{location}/publishers/{publisher}/models/{model}:{method}`:
 * - every call needs `Authorization: Bearer` with an access token of its Google token endpoint
 *   (google-oauth.ts), for the cloud-platform scope: a missing, unknown or expired one gets 401
 *   UNAUTHENTICATED in Google's error body; another project than its own gets 403;
 * - Google's models: `:generateContent`, `:streamGenerateContent?alt=sse` (the Gemini emulator's
 *   answers and directives), `:countTokens` ({contents, systemInstruction, tools} → totalTokens) and
 *   `:predict` for embeddings ({instances: [{content}]} → predictions[].embeddings{values, statistics});
 * - Anthropic's: `:rawPredict` and `:streamRawPredict` with a Messages body that carries
 *   `anthropic_version: "vertex-2023-10-16"` and names the model only in the URL (the Anthropic
 *   emulator's answers and directives, errors in Anthropic's shape), and the `count-tokens` model's
 *   `:rawPredict` (Anthropic's count_tokens: it names the model, refuses fields it does not take).
 * Counts are the words of the prompt's texts plus 10 a tool, so a test can tell what was counted.
 */
export interface VertexEmulator extends Emulator {
  /** The base URL (without /v1). */
  readonly url: string;
  readonly tokenEndpoint: GoogleTokenEndpoint;
  /** A service account of this emulator's token endpoint; an untrusted one signs with a key Google does not know. */
  newServiceAccount(trusted?: boolean): ServiceAccountKey;
}

export const vertexProject = "emulated-project";
const cloudPlatform = "https://www.googleapis.com/auth/cloud-platform";
const anthropicVersion = "vertex-2023-10-16";
/** What Anthropic's token counting takes; anything else is an extra input it refuses. */
const countFields = new Set([
  "anthropic_version",
  "model",
  "messages",
  "system",
  "tools",
  "tool_choice",
  "thinking",
]);

export async function startVertexEmulator(
  options: { tokenLifetimeSeconds?: number; tokenLatencyMs?: number; chunkDelayMs?: number } = {},
): Promise<VertexEmulator> {
  const tokens = await startGoogleTokenEndpoint({
    tokenLifetimeSeconds: options.tokenLifetimeSeconds,
    latencyMs: options.tokenLatencyMs,
  });
  const server = await startJsonServer({
    handle: (request, response, body, injected) => handle(request, response, body, tokens, options, injected),
    badJson: (response) => sendGoogleError(response, 400, "Invalid JSON payload received."),
  });
  const emulator = server.emulatorAt("");
  return {
    ...emulator,
    tokenEndpoint: tokens,
    newServiceAccount: (trusted) => tokens.newServiceAccount(trusted),
    close: async () => {
      await Promise.all([emulator.close(), tokens.close()]);
    },
  };
}

async function handle(
  request: IncomingMessage,
  response: ServerResponse,
  body: Record<string, unknown>,
  tokens: GoogleTokenEndpoint,
  options: { chunkDelayMs?: number },
  injected: string,
) {
  const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? "")?.[1];
  const grant = bearer === undefined ? "missing" : tokens.check(bearer, cloudPlatform);
  if (grant === "missing")
    return sendGoogleError(
      response,
      401,
      "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
    );
  if (grant === "unknown" || grant === "expired")
    return sendGoogleError(
      response,
      401,
      "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
    );
  if (grant === "insufficient-scope")
    return sendGoogleError(response, 403, "Request had insufficient authentication scopes.");
  const url = new URL(request.url ?? "/", "http://emulator");
  const route =
    /^\/v1\/projects\/([^/]+)\/locations\/([a-z0-9-]+)\/publishers\/(google|anthropic)\/models\/([^/:]+):(\w+)$/.exec(
      url.pathname,
    );
  if (!route) return sendGoogleError(response, 404, `The requested URL ${url.pathname} was not found.`);
  const [, project, location, publisher, encodedModel, method] = route as unknown as string[];
  const model = decodeURIComponent(encodedModel as string);
  if (project !== vertexProject)
    return sendGoogleError(
      response,
      403,
      `Permission 'aiplatform.endpoints.predict' denied on resource '//aiplatform.googleapis.com/projects/${project}/locations/${location}' (or it may not exist).`,
    );
  if (model.startsWith("missing"))
    return sendGoogleError(
      response,
      404,
      `Publisher Model \`projects/${project}/locations/${location}/publishers/${publisher}/models/${model}\` not found.`,
    );
  if (publisher === "anthropic") {
    if (model === "count-tokens" && method === "rawPredict") return countAnthropicTokens(response, body);
    if (method !== "rawPredict" && method !== "streamRawPredict")
      return sendGoogleError(response, 404, `Method ${method} is not served for Anthropic's models.`);
    if (body.anthropic_version !== anthropicVersion)
      return sendAnthropicError(response, 400, `anthropic_version: must be "${anthropicVersion}"`);
    return answerMessages(request, response, body, model, options, injected);
  }
  if (method === "generateContent" || method === "streamGenerateContent")
    return answerGenerateContent(request, response, body, { model, method, url }, options, injected);
  if (method === "countTokens") return countGeminiTokens(response, body);
  if (method === "predict") return predictEmbeddings(response, body);
  return sendGoogleError(response, 404, `Method ${method} not found.`);
}

type Texts = { text?: unknown; content?: unknown; parts?: unknown };
/** The words of every text in a Gemini or Anthropic prompt (parts, blocks or strings). */
function words(value: unknown): number {
  if (typeof value === "string") return value.split(/\s+/).filter(Boolean).length;
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + words(item), 0);
  if (typeof value !== "object" || value === null) return 0;
  const { text, content, parts } = value as Texts;
  return words(text) + words(content) + words(parts);
}

function countGeminiTokens(response: ServerResponse, body: Record<string, unknown>) {
  if (!Array.isArray(body.contents) || body.contents.length === 0)
    return sendGoogleError(response, 400, "contents: at least one content is required");
  const declarations = (
    (body.tools as Array<{ functionDeclarations?: unknown[] }> | undefined) ?? []
  ).flatMap((tool) => tool.functionDeclarations ?? []);
  const totalTokens = words(body.contents) + words(body.systemInstruction) + 10 * declarations.length;
  sendJson(response, { totalTokens, totalBillableCharacters: totalTokens * 4 });
}

function countAnthropicTokens(response: ServerResponse, body: Record<string, unknown>) {
  const extra = Object.keys(body).find((field) => !countFields.has(field));
  if (extra) return sendAnthropicError(response, 400, `${extra}: Extra inputs are not permitted`);
  if (typeof body.model !== "string") return sendAnthropicError(response, 400, "model: Field required");
  if (!Array.isArray(body.messages) || body.messages.length === 0)
    return sendAnthropicError(response, 400, "messages: at least one message is required");
  const tools = Array.isArray(body.tools) ? body.tools.length : 0;
  sendJson(response, { input_tokens: words(body.messages) + words(body.system) + 10 * tools });
}

function predictEmbeddings(response: ServerResponse, body: Record<string, unknown>) {
  const instances = body.instances as Array<{ content?: unknown }> | undefined;
  if (!Array.isArray(instances) || instances.some((instance) => typeof instance.content !== "string"))
    return sendGoogleError(response, 400, "instances: each instance needs a content string");
  const dimensions = (body.parameters as { outputDimensionality?: number } | undefined)?.outputDimensionality;
  sendJson(response, {
    predictions: instances.map(({ content }) => ({
      embeddings: {
        values: emulatedEmbedding(content as string, dimensions),
        statistics: { token_count: words(content), truncated: false },
      },
    })),
    metadata: {
      billableCharacterCount: instances.reduce((sum, { content }) => sum + String(content).length, 0),
    },
  });
}

function sendJson(response: ServerResponse, body: unknown) {
  response.writeHead(200, { "content-type": "application/json; charset=UTF-8" });
  response.end(JSON.stringify(body));
}
