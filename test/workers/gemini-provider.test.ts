import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../app/gateway.ts";
import { type GeminiEmulator, startGeminiEmulator } from "../emulators/gemini.ts";
import { startTestGateway, testConfig, testKey } from "../support/gateway.ts";

const providerKey = "AIza-emulator-0123456789";

describe("the gemini provider adapter, against a Gemini emulator", () => {
  let emulator: GeminiEmulator;
  let gateway: RunningGateway;
  let openai: OpenAI;
  let anthropic: Anthropic;

  beforeAll(async () => {
    emulator = await startGeminiEmulator({ apiKey: providerKey });
    gateway = await startTestGateway(
      testConfig("in-process", {
        providers: [
          { name: "gemini", type: "gemini", options: { baseUrl: emulator.url, apiKey: providerKey } },
          {
            name: "gemini-bad-key",
            type: "gemini",
            options: { baseUrl: emulator.url, apiKey: "AIza-wrong" },
          },
        ],
        models: [
          { name: "gemini-flash", provider: "gemini", model: "gemini-2.5-flash" },
          { name: "gemini-bad-key", provider: "gemini-bad-key", model: "gemini-2.5-flash" },
          { name: "gemini-missing", provider: "gemini", model: "missing-model" },
        ],
      }),
    );
    openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: testKey, maxRetries: 0 });
    anthropic = new Anthropic({ baseURL: gateway.url, apiKey: testKey, maxRetries: 0 });
  });
  afterAll(async () => {
    await gateway.close();
    await emulator.close();
  });

  const lastRequest = () => emulator.requests.at(-1) as GeminiEmulator["requests"][number];

  it("translates a chat into generateContent: systemInstruction, model turns, functionResponse by name, generationConfig", async () => {
    const completion = await openai.chat.completions.create({
      model: "gemini-flash",
      temperature: 0.3,
      max_tokens: 99,
      stop: ["END"],
      seed: 5,
      n: 2,
      response_format: { type: "json_schema", json_schema: { name: "a", schema: { type: "object" } } },
      messages: [
        { role: "system", content: "Be brief." },
        {
          role: "user",
          content: [
            { type: "text", text: "Look" },
            { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
          ],
        },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            { id: "call_9", type: "function", function: { name: "lookup", arguments: '{"q":"x"}' } },
          ],
        },
        { role: "tool", tool_call_id: "call_9", content: "found" },
        { role: "user", content: "Thanks" },
      ],
    });
    expect(completion.choices[0]?.message.content).toBe("Echo: Thanks");
    const sent = lastRequest();
    expect(sent.path).toBe("/v1beta/models/gemini-2.5-flash:generateContent");
    expect(sent.headers["x-goog-api-key"]).toBe(providerKey);
    expect(sent.body).toEqual({
      systemInstruction: { parts: [{ text: "Be brief." }] },
      contents: [
        {
          role: "user",
          parts: [{ text: "Look" }, { inlineData: { mimeType: "image/png", data: "iVBORw0KGgo=" } }],
        },
        { role: "model", parts: [{ functionCall: { name: "lookup", args: { q: "x" } } }] },
        { role: "user", parts: [{ functionResponse: { name: "lookup", response: { result: "found" } } }] },
        { role: "user", parts: [{ text: "Thanks" }] },
      ],
      generationConfig: {
        temperature: 0.3,
        maxOutputTokens: 99,
        stopSequences: ["END"],
        seed: 5,
        candidateCount: 2,
        responseMimeType: "application/json",
        responseJsonSchema: { type: "object" },
      },
    });
  });

  it("streams over SSE with exact usage: Gemini's prompt count already includes the cached tokens", async () => {
    const stream = await openai.chat.completions.create({
      model: "gemini-flash",
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: "alpha beta [emulator:cached]" }],
    });
    const deltas: string[] = [];
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) deltas.push(chunk.choices[0].delta.content);
      usage = chunk.usage ?? usage;
    }
    expect(deltas).toEqual(["Echo:", " alpha", " beta"]);
    expect(lastRequest().path).toBe("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse");
    expect(usage).toMatchObject({
      prompt_tokens: 50,
      completion_tokens: 3 + 12,
      prompt_tokens_details: { cached_tokens: 40 },
      completion_tokens_details: { reasoning_tokens: 12 },
    });
  });

  it("answers a prompt Gemini blocked (no candidates, a blockReason) as filtered content, whole and streamed", async () => {
    const whole = await openai.chat.completions.create({
      model: "gemini-flash",
      messages: [{ role: "user", content: "something [emulator:blocked]" }],
    });
    expect(whole.choices[0]).toMatchObject({ finish_reason: "content_filter", message: { content: "" } });
    const stream = await anthropic.messages
      .stream({
        model: "gemini-flash",
        max_tokens: 50,
        messages: [{ role: "user", content: "something [emulator:blocked]" }],
      })
      .finalMessage();
    expect(stream).toMatchObject({ content: [], stop_reason: "refusal" });
  });

  it("reports Gemini's function calls as tool calls (tool_use for Anthropic callers), with ids made up", async () => {
    const final = await anthropic.messages
      .stream({
        model: "gemini-flash",
        max_tokens: 50,
        tools: [{ name: "lookup", input_schema: { type: "object", properties: { n: { type: "number" } } } }],
        tool_choice: { type: "any" },
        messages: [{ role: "user", content: "go [emulator:calls=2]" }],
      })
      .finalMessage();
    expect(final.stop_reason).toBe("tool_use");
    expect(final.content).toEqual([
      { type: "tool_use", id: "call_0_0", name: "lookup", input: { n: 0 } },
      { type: "tool_use", id: "call_0_1", name: "lookup", input: { n: 1 } },
    ]);
    expect(lastRequest().body.toolConfig).toEqual({ functionCallingConfig: { mode: "ANY" } });
  });

  it("keeps only the first call when the caller forbids parallel calls, which Gemini cannot be told", async () => {
    const completion = await openai.chat.completions.create({
      model: "gemini-flash",
      parallel_tool_calls: false,
      tool_choice: "required",
      tools: [{ type: "function", function: { name: "lookup", parameters: { type: "object" } } }],
      messages: [{ role: "user", content: "go [emulator:calls=3]" }],
    });
    expect(completion.choices[0]?.message.tool_calls).toHaveLength(1);
    expect(completion.choices[0]?.finish_reason).toBe("tool_calls");
  });

  it("refuses image URLs (the gateway does not fetch callers' URLs) and embeds through batchEmbedContents", async () => {
    const refused = await openai.chat.completions
      .create({
        model: "gemini-flash",
        messages: [
          {
            role: "user",
            content: [{ type: "image_url", image_url: { url: "https://example.com/cat.png" } }],
          },
        ],
      })
      .catch((failure: unknown) => failure);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect((refused as InstanceType<typeof OpenAI.APIError>).message).toMatch(/takes images inline/);

    const embedded = await openai.embeddings.create({
      model: "gemini-flash",
      input: ["a", "bb"],
      dimensions: 4,
      encoding_format: "float",
    });
    expect(embedded.data.map((item) => item.embedding.length)).toEqual([4, 4]);
    expect(lastRequest().body).toEqual({
      requests: [
        { model: "models/gemini-2.5-flash", content: { parts: [{ text: "a" }] }, outputDimensionality: 4 },
        { model: "models/gemini-2.5-flash", content: { parts: [{ text: "bb" }] }, outputDimensionality: 4 },
      ],
    });
  });

  it("maps Google's errors: RetryInfo becomes retry-after, a bad key (a 400 at Google) is the gateway's 502", async () => {
    const limited = await openai.chat.completions
      .create({ model: "gemini-flash", messages: [{ role: "user", content: "x [emulator:status=429]" }] })
      .catch((failure: unknown) => failure);
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
    expect((limited as InstanceType<typeof OpenAI.APIError>).headers?.get("retry-after")).toBe("7");

    const refused = await openai.chat.completions
      .create({ model: "gemini-bad-key", messages: [{ role: "user", content: "x" }] })
      .catch((failure: unknown) => failure);
    expect((refused as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
  });

  it("maps an unknown model to a 404", async () => {
    const missing = await openai.chat.completions
      .create({ model: "gemini-missing", messages: [{ role: "user", content: "x" }] })
      .catch((failure: unknown) => failure);
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
  });

  it("ends a stream with an error event when the connection to Gemini breaks mid-stream", async () => {
    const stream = await openai.chat.completions.create({
      model: "gemini-flash",
      stream: true,
      messages: [{ role: "user", content: "a b c d [emulator:midstream]" }],
    });
    const received: string[] = [];
    const failure = await (async () => {
      for await (const chunk of stream) received.push(chunk.choices[0]?.delta.content ?? "");
    })().catch((error: unknown) => error);
    expect(received.join("")).toBe("Echo: a");
    expect(failure).toBeInstanceOf(OpenAI.APIError);
  });
});
