import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../app/gateway.ts";
import { ConfigError } from "../../config/load.ts";
import { type AnthropicEmulator, startAnthropicEmulator } from "../emulators/anthropic.ts";
import { type GeminiEmulator, startGeminiEmulator } from "../emulators/gemini.ts";
import { type JsonServer, type RecordedRequest, startJsonServer } from "../emulators/json-server.ts";
import { type OpenAIEmulator, startOpenAIEmulator } from "../emulators/openai.ts";
import { startTestGateway, testConfig, testKey } from "../support/gateway.ts";

const openaiKey = "sk-emulator-0123456789abcdef";
const anthropicKey = "sk-ant-emulator-0123456789";
const geminiKey = "AIza-emulator-key+in/query=0123";

/**
 * A provider entry's `headers` go with every call its adapter makes (chat, stream, embeddings),
 * from configuration only; what a caller sends in its own request headers never reaches a provider.
 */
describe("configured provider headers", () => {
  let openaiEmulator: OpenAIEmulator;
  let claude: AnthropicEmulator;
  let gemini: GeminiEmulator;
  let leakyProxy: JsonServer;
  let gateway: RunningGateway;
  let client: OpenAI;

  beforeAll(async () => {
    [openaiEmulator, claude, gemini] = await Promise.all([
      startOpenAIEmulator({ apiKey: openaiKey }),
      startAnthropicEmulator({ apiKey: anthropicKey }),
      startGeminiEmulator({ apiKey: geminiKey }),
    ]);
    // A proxy that fails quoting the URL it was asked, query and all (key included).
    leakyProxy = await startJsonServer({
      handle: async (request, response) => {
        response.writeHead(502, { "content-type": "application/json" });
        response.end(JSON.stringify({ error: { message: `upstream failed for ${request.url}` } }));
      },
      badJson: (response) => response.writeHead(400).end(),
    });
    const openai = (headers: Record<string, string>, extra: Record<string, unknown> = {}) => ({
      type: "openai",
      options: { baseUrl: openaiEmulator.url, apiKey: openaiKey, headers, ...extra },
    });
    gateway = await startTestGateway(
      testConfig("in-process", {
        providers: [
          {
            name: "openai-org",
            ...openai(
              { "OpenAI-Organization": "org-from-config", "X-Team": "search" },
              { organization: "org-option" },
            ),
          },
          { name: "openai-plain", ...openai({}) },
          {
            name: "claude",
            type: "anthropic",
            options: {
              baseUrl: claude.url,
              apiKey: anthropicKey,
              headers: { "anthropic-beta": "prompt-caching-2024-07-31" },
            },
          },
          {
            name: "gemini-query",
            type: "gemini",
            options: {
              baseUrl: gemini.url,
              apiKey: geminiKey,
              apiKeyIn: "query",
              headers: { "x-goog-user-project": "project-7" },
            },
          },
          {
            name: "gemini-wrong-key",
            type: "gemini",
            options: { baseUrl: gemini.url, apiKey: "AIza-wrong-key-in-query", apiKeyIn: "query" },
          },
          {
            name: "gemini-behind-proxy",
            type: "gemini",
            options: { baseUrl: `${leakyProxy.origin}/v1beta`, apiKey: geminiKey, apiKeyIn: "query" },
          },
        ],
        models: [
          { name: "org-model", provider: "openai-org", model: "gpt-4o" },
          { name: "plain-model", provider: "openai-plain", model: "gpt-4o" },
          { name: "claude-model", provider: "claude", model: "claude-x" },
          { name: "gemini-model", provider: "gemini-query", model: "gemini-2.5-flash" },
          { name: "gemini-wrong", provider: "gemini-wrong-key", model: "gemini-2.5-flash" },
          { name: "gemini-proxied", provider: "gemini-behind-proxy", model: "gemini-2.5-flash" },
        ],
      }),
    );
    client = new OpenAI({
      baseURL: `${gateway.url}/v1`,
      apiKey: testKey,
      maxRetries: 0,
      defaultHeaders: { "OpenAI-Organization": "org-from-caller", "anthropic-beta": "caller-beta" },
    });
  });
  afterAll(async () => {
    await gateway.close();
    await Promise.all([openaiEmulator.close(), claude.close(), gemini.close(), leakyProxy.close()]);
  });

  const last = (requests: RecordedRequest[]) => requests.at(-1) as RecordedRequest;
  const ask = (model: string) =>
    client.chat.completions.create({ model, messages: [{ role: "user", content: "hello" }] });
  const askStreaming = async (model: string) => {
    const chunks = await client.chat.completions.create({
      model,
      stream: true,
      messages: [{ role: "user", content: "hello" }],
    });
    let text = "";
    for await (const chunk of chunks) text += chunk.choices[0]?.delta.content ?? "";
    return text;
  };
  const failureOf = async (model: string) => {
    const error = await ask(model).catch((thrown: unknown) => thrown);
    if (!(error instanceof OpenAI.APIError)) throw new Error(`expected an API error, got ${String(error)}`);
    return error;
  };

  it("sends an entry's headers with its chat calls, streamed or not, and its embeddings; the configured value wins over the adapter's", async () => {
    for (const call of [() => ask("org-model"), () => askStreaming("org-model")]) {
      await call();
      const sent = last(openaiEmulator.requests);
      expect(sent.path).toBe("/v1/chat/completions");
      expect(sent.headers["openai-organization"]).toBe("org-from-config");
      expect(sent.headers["x-team"]).toBe("search");
      expect(sent.headers.authorization).toBe(`Bearer ${openaiKey}`);
    }
    await client.embeddings.create({ model: "org-model", input: ["a"] });
    const embedding = last(openaiEmulator.requests);
    expect(embedding.path).toBe("/v1/embeddings");
    expect(embedding.headers["x-team"]).toBe("search");
    expect(embedding.headers["openai-organization"]).toBe("org-from-config");
  });

  it("never forwards a caller's own OpenAI-Organization or anthropic-beta", async () => {
    await ask("plain-model");
    const plain = last(openaiEmulator.requests);
    expect(plain.headers["openai-organization"]).toBeUndefined();
    expect(plain.headers["anthropic-beta"]).toBeUndefined();
    expect(plain.headers["x-team"]).toBeUndefined();

    const anthropic = new Anthropic({
      baseURL: gateway.url,
      apiKey: testKey,
      maxRetries: 0,
      defaultHeaders: { "anthropic-beta": "caller-beta" },
    });
    const stream = anthropic.messages.stream({
      model: "claude-model",
      max_tokens: 50,
      messages: [{ role: "user", content: "hi there" }],
    });
    expect((await stream.finalMessage()).content[0]).toMatchObject({ text: "Echo: hi there" });
    const sent = last(claude.requests);
    expect(sent.headers["anthropic-beta"]).toBe("prompt-caching-2024-07-31");
    expect(sent.headers["x-api-key"]).toBe(anthropicKey);
    expect(sent.headers["anthropic-version"]).toBe("2023-06-01");
  });

  it("puts a Gemini key in the key= query parameter when told, for chat, streams and embeddings", async () => {
    const answer = await ask("gemini-model");
    expect(answer.choices[0]?.message.content).toBe("Echo: hello");
    expect(await askStreaming("gemini-model")).toBe("Echo: hello");
    await client.embeddings.create({ model: "gemini-model", input: ["a", "bb"] });
    const sent = gemini.requests.slice(-3);
    expect(sent.map((request) => new URL(request.path, "http://x").pathname)).toEqual([
      "/v1beta/models/gemini-2.5-flash:generateContent",
      "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
      "/v1beta/models/gemini-2.5-flash:batchEmbedContents",
    ]);
    for (const request of sent) {
      const query = new URL(request.path, "http://x").searchParams;
      expect(query.get("key")).toBe(geminiKey);
      expect(request.headers["x-goog-api-key"]).toBeUndefined();
      expect(request.headers["x-goog-user-project"]).toBe("project-7");
    }
    expect(new URL(sent[1]?.path as string, "http://x").searchParams.get("alt")).toBe("sse");
  });

  it("keeps a key sent in the URL out of every error, even from a proxy quoting the URL", async () => {
    const refused = await failureOf("gemini-wrong");
    expect(refused.status).toBe(502);
    expect(JSON.stringify(refused.error)).not.toContain("AIza-wrong-key-in-query");

    const proxied = await failureOf("gemini-proxied");
    expect(proxied.status).toBe(502);
    const message = proxied.message;
    expect(message).toContain("upstream failed for /v1beta/models/gemini-2.5-flash:generateContent?key=");
    expect(message).toContain("[redacted]");
    expect(message).not.toContain(encodeURIComponent(geminiKey));
    expect(message).not.toContain(geminiKey);
    // The proxy did receive the key: redaction is of what comes back, not of what is sent.
    expect(new URL(last(leakyProxy.requests).path, "http://x").searchParams.get("key")).toBe(geminiKey);
  });
});

describe("provider headers at configuration load", () => {
  const configWith = (headers: Record<string, unknown>, type = "openai") =>
    testConfig("in-process", {
      providers: [{ name: "p", type, options: { apiKey: "k", baseUrl: "http://127.0.0.1:1", headers } }],
      models: [{ name: "m", provider: "p" }],
    });
  const problemsWith = (headers: Record<string, unknown>, type = "openai") => {
    try {
      configWith(headers, type);
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
    return [];
  };

  it("refuses the headers the gateway sets itself, in any case, naming the field", () => {
    expect(problemsWith({ Authorization: "Bearer other" })).toEqual([
      expect.stringMatching(
        /^providers\.0\.options\.headers\.Authorization: the gateway sets this header itself \(its credentials/,
      ),
    ]);
    for (const [type, name] of [
      ["anthropic", "X-API-KEY"],
      ["gemini", "x-goog-api-key"],
      ["openai-compatible", "proxy-authorization"],
      ["openai", "Content-Length"],
    ] as const)
      expect(problemsWith({ [name]: "x" }, type)).toEqual([
        expect.stringContaining(`providers.0.options.headers.${name}: the gateway sets this header itself`),
      ]);
    expect(problemsWith({ "api-key": "x" }, "openai")).toHaveLength(1);
  });

  it("refuses a name that is not an HTTP token and a value with a line break", () => {
    expect(problemsWith({ "bad header": "x" })).toEqual([
      "providers.0.options.headers.bad header: not an HTTP header name (RFC 7230: letters, digits and !#$%&'*+-.^_`|~)",
    ]);
    expect(problemsWith({ "x-ok": "one\r\nx-injected: two" })).toEqual([
      "providers.0.options.headers.x-ok: a header value cannot hold a line break",
    ]);
  });

  it("accepts other names and values, keeping them as written", () => {
    const headers = { "anthropic-beta": "a,b", "OpenAI-Project": "proj_1", "x-custom_1~": "v w" };
    expect(configWith(headers).providers[0]?.options.headers).toEqual(headers);
  });
});
