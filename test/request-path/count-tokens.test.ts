import { randomUUID } from "node:crypto";
import Anthropic from "@anthropic-ai/sdk";
import { countChatCompletionTokens } from "gpt-tokenizer/model/gpt-4o";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../app/gateway.ts";
import { type AnthropicEmulator, startAnthropicEmulator } from "../emulators/anthropic.ts";
import { type GeminiEmulator, startGeminiEmulator } from "../emulators/gemini.ts";
import { type OpenAIEmulator, startOpenAIEmulator } from "../emulators/openai.ts";
import { adminApi } from "../support/admin.ts";
import { busKinds, startTestGateway, testConfig, testKey } from "../support/gateway.ts";

const weatherTool: Anthropic.Tool = {
  name: "get_weather",
  description: "Current weather in a city",
  input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
};

/** A conversation with a system prompt, a tool and a tool call in its history. */
const conversation = {
  system: "Be brief and precise.",
  tools: [weatherTool],
  messages: [
    { role: "user", content: "What is the weather in Paris today?" },
    {
      role: "assistant",
      content: [{ type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Paris" } }],
    },
    {
      role: "user",
      content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "Sunny, 21 degrees" }],
    },
  ],
} satisfies Omit<Anthropic.MessageCountTokensParams, "model">;

describe.each(busKinds)("count_tokens on the %s bus", (bus) => {
  let anthropicEmulator: AnthropicEmulator;
  let geminiEmulator: GeminiEmulator;
  let openaiEmulator: OpenAIEmulator;
  let gateway: RunningGateway;
  let client: Anthropic;
  const admin = adminApi(() => gateway.url);
  const clientWith = (apiKey: string, baseURL = gateway.url) =>
    new Anthropic({ baseURL, apiKey, maxRetries: 0 });
  const newKey = async (settings: Record<string, unknown>) => {
    const team = `t-${randomUUID().slice(0, 8)}`;
    await admin("POST", "/admin/teams", { id: team });
    return (await admin("POST", "/admin/keys", { team, ...settings })).body.key;
  };

  beforeAll(async () => {
    anthropicEmulator = await startAnthropicEmulator({ apiKey: "sk-ant" });
    geminiEmulator = await startGeminiEmulator({ apiKey: "gem" });
    openaiEmulator = await startOpenAIEmulator({ apiKey: "sk-oai" });
    gateway = await startTestGateway(
      testConfig(bus, {
        providers: [
          { name: "mock", type: "mock" },
          { name: "a", type: "anthropic", options: { baseUrl: anthropicEmulator.url, apiKey: "sk-ant" } },
          { name: "g", type: "gemini", options: { baseUrl: geminiEmulator.url, apiKey: "gem" } },
          { name: "o", type: "openai", options: { baseUrl: openaiEmulator.url, apiKey: "sk-oai" } },
        ],
        models: [
          { name: "claude", provider: "a", model: "claude-sonnet-4-5" },
          { name: "gemini", provider: "g", model: "gemini-2.5-flash" },
          { name: "gpt", provider: "o", model: "gpt-4o" },
          { name: "mock", provider: "mock" },
        ],
      }),
    );
    client = clientWith(testKey);
  });
  afterAll(async () => {
    await gateway?.close();
    await Promise.all([anthropicEmulator?.close(), geminiEmulator?.close(), openaiEmulator?.close()]);
  });

  it("forwards the count to Anthropic's count_tokens and answers what it counted", async () => {
    const { data, response } = await client.messages
      .countTokens({ model: "claude", ...conversation })
      .withResponse();
    // The provider got a count body, never a call: no max_tokens (Anthropic refuses it there).
    const sent = anthropicEmulator.requests.at(-1);
    expect(sent?.path).toBe("/v1/messages/count_tokens");
    expect(sent?.body).not.toHaveProperty("max_tokens");
    const direct = await fetch(`${anthropicEmulator.url}/v1/messages/count_tokens`, {
      method: "POST",
      headers: {
        "x-api-key": "sk-ant",
        "anthropic-version": "2023-06-01",
        "content-type": "application/json",
      },
      body: JSON.stringify({ model: "claude-sonnet-4-5", ...conversation }),
    });
    expect(data.input_tokens).toBe(((await direct.json()) as { input_tokens: number }).input_tokens);
    expect(data.input_tokens).toBeGreaterThan(20);
    expect(response.headers.get("x-gateway-token-count")).toBe("provider");
  });

  it("forwards the count to Gemini's countTokens with the system instruction and tools", async () => {
    const { data, response } = await client.messages
      .countTokens({ model: "gemini", ...conversation })
      .withResponse();
    const sent = geminiEmulator.requests.at(-1);
    expect(sent?.path).toBe("/v1beta/models/gemini-2.5-flash:countTokens");
    const direct = await fetch(`${geminiEmulator.url}/models/gemini-2.5-flash:countTokens`, {
      method: "POST",
      headers: { "x-goog-api-key": "gem", "content-type": "application/json" },
      body: JSON.stringify(sent?.body),
    });
    expect(data.input_tokens).toBe(((await direct.json()) as { totalTokens: number }).totalTokens);
    // The system prompt and the tool are in what was counted.
    expect(JSON.stringify(sent?.body)).toContain("Be brief and precise.");
    expect(JSON.stringify(sent?.body)).toContain("get_weather");
    expect(response.headers.get("x-gateway-token-count")).toBe("provider");
  });

  it("counts an OpenAI model's prompt exactly, as OpenAI's tokenizer counts the same chat", async () => {
    const calls = openaiEmulator.requests.length;
    const { data, response } = await client.messages
      .countTokens({ model: "gpt", ...conversation })
      .withResponse();
    const expected = countChatCompletionTokens?.({
      messages: [
        { role: "system", content: conversation.system },
        { role: "user", content: "What is the weather in Paris today?" },
        {
          role: "assistant",
          content: "",
          function_call: { name: "get_weather", arguments: '{"city":"Paris"}' },
        },
        { role: "tool", content: "Sunny, 21 degrees" },
      ],
      functions: [
        {
          name: weatherTool.name,
          description: weatherTool.description as string,
          parameters: weatherTool.input_schema as never,
        },
      ],
    });
    expect(data.input_tokens).toBe(expected);
    expect(response.headers.get("x-gateway-token-count")).toBe("exact");
    // Counted by the worker's tokenizer: OpenAI was not called.
    expect(openaiEmulator.requests.length).toBe(calls);
  });

  it("estimates where the deployment has no counter, and says so", async () => {
    const { data, response } = await client.messages
      .countTokens({ model: "mock", messages: [{ role: "user", content: "Hello there" }] })
      .withResponse();
    expect(data.input_tokens).toBeGreaterThan(0);
    expect(response.headers.get("x-gateway-token-count")).toBe("estimated");
  });

  it("refuses a bad body with Anthropic's error JSON", async () => {
    const response = await fetch(`${gateway.url}/v1/messages/count_tokens`, {
      method: "POST",
      headers: {
        "x-api-key": testKey,
        "content-type": "application/json",
        "anthropic-version": "2023-06-01",
      },
      body: JSON.stringify({ model: "claude", messages: [] }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      type: "error",
      error: { type: "invalid_request_error", message: expect.stringContaining("messages") },
    });
    await expect(
      client.messages.countTokens({ model: "nowhere", messages: [{ role: "user", content: "hi" }] }),
    ).rejects.toBeInstanceOf(Anthropic.NotFoundError);
  });

  it("refuses a key that may not call the Messages API", async () => {
    const key = await newKey({ apis: ["chat"] });
    await expect(
      clientWith(key).messages.countTokens({ model: "mock", messages: [{ role: "user", content: "hi" }] }),
    ).rejects.toMatchObject({ status: 403, error: { type: "error", error: { type: "permission_error" } } });
    const allowed = await newKey({ apis: ["messages"] });
    const counted = await clientWith(allowed).messages.countTokens({
      model: "mock",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(counted.input_tokens).toBeGreaterThan(0);
  });

  it("reserves rate limits with the same counter: exact for an OpenAI model, the estimate elsewhere", async () => {
    // 300 words: about 310 tokens by OpenAI's tokenizer, over 400 by the estimate (the prompt's JSON / 4).
    const body = { max_tokens: 10, messages: [{ role: "user" as const, content: "word ".repeat(300) }] };
    const exact = countChatCompletionTokens?.({ messages: body.messages }) as number;
    expect(exact).toBeLessThan(400);
    const limits = { rateLimits: { tokensPerMinute: 400 } };
    const openai = await clientWith(await newKey(limits))
      .messages.create({ model: "gpt", ...body })
      .withResponse();
    expect(openai.response.headers.get("x-ratelimit-remaining-tokens")).toBe(String(400 - exact));
    await expect(
      clientWith(await newKey(limits)).messages.create({ model: "mock", ...body }),
    ).rejects.toMatchObject({ status: 429 });
  });
});
