import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../app/gateway.ts";
import { type OpenAIEmulator, startOpenAIEmulator } from "../emulators/openai.ts";
import { startTestGateway, testConfig, testKey } from "../support/gateway.ts";

const providerKey = "sk-emulator-0123456789abcdef";

describe("the openai provider adapter, against an OpenAI emulator", () => {
  let emulator: OpenAIEmulator;
  let attacker: OpenAIEmulator;
  let gateway: RunningGateway;
  let openai: OpenAI;
  let anthropic: Anthropic;

  beforeAll(async () => {
    emulator = await startOpenAIEmulator({ apiKey: providerKey });
    attacker = await startOpenAIEmulator({ apiKey: "anything" });
    gateway = await startTestGateway(
      testConfig("in-process", {
        providers: [
          { name: "openai", type: "openai", options: { baseUrl: emulator.url, apiKey: providerKey } },
          {
            name: "openai-bad-key",
            type: "openai",
            options: { baseUrl: emulator.url, apiKey: "sk-wrong-key-for-this-test" },
          },
        ],
        models: [
          { name: "gpt-4o", provider: "openai", model: "gpt-4o" },
          { name: "missing-model", provider: "openai" },
          { name: "bad-key", provider: "openai-bad-key", model: "gpt-4o" },
        ],
      }),
    );
    openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: testKey, maxRetries: 0 });
    anthropic = new Anthropic({ baseURL: gateway.url, apiKey: testKey, maxRetries: 0 });
  });
  afterAll(async () => {
    await gateway.close();
    await Promise.all([emulator.close(), attacker.close()]);
  });

  const lastRequest = () => emulator.requests.at(-1) as OpenAIEmulator["requests"][number];

  it("passes a chat completion through, with the options the gateway does not model", async () => {
    const completion = await openai.chat.completions.create({
      model: "gpt-4o",
      messages: [
        { role: "developer", content: "Be terse." },
        { role: "user", content: "hello there" },
      ],
      max_completion_tokens: 50,
      presence_penalty: 0.5,
      logprobs: true,
      seed: 7,
    });
    expect(completion.choices[0]?.message.content).toBe("Echo: hello there");
    expect(completion.model).toBe("gpt-4o");
    const sent = lastRequest();
    expect(sent.path).toBe("/v1/chat/completions");
    expect(sent.headers.authorization).toBe(`Bearer ${providerKey}`);
    expect(sent.body).toEqual({
      model: "gpt-4o",
      messages: [
        { role: "developer", content: "Be terse." },
        { role: "user", content: "hello there" },
      ],
      max_completion_tokens: 50,
      presence_penalty: 0.5,
      logprobs: true,
      seed: 7,
    });
    expect(completion.usage?.prompt_tokens).toBeGreaterThan(0);
  });

  it("sends images (URL and base64), JSON schema and n as OpenAI parts and options", async () => {
    await openai.chat.completions.create({
      model: "gpt-4o",
      n: 2,
      response_format: {
        type: "json_schema",
        json_schema: { name: "answer", schema: { type: "object" }, strict: true },
      },
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "Compare" },
            { type: "image_url", image_url: { url: "https://example.com/a.png", detail: "high" } },
            { type: "image_url", image_url: { url: "data:image/jpeg;base64,/9j/4AAQ" } },
          ],
        },
      ],
    });
    expect(lastRequest().body).toEqual({
      model: "gpt-4o",
      n: 2,
      response_format: {
        type: "json_schema",
        json_schema: { name: "answer", schema: { type: "object" }, strict: true },
      },
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "Compare" },
            { type: "image_url", image_url: { url: "https://example.com/a.png", detail: "high" } },
            { type: "image_url", image_url: { url: "data:image/jpeg;base64,/9j/4AAQ" } },
          ],
        },
      ],
    });
  });

  it("streams from the provider chunk by chunk, asking it for usage", async () => {
    const stream = await openai.chat.completions.create({
      model: "gpt-4o",
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: "one two three" }],
    });
    const deltas: string[] = [];
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) deltas.push(chunk.choices[0].delta.content);
      usage = chunk.usage ?? usage;
    }
    expect(deltas).toEqual(["Echo:", " one", " two", " three"]);
    expect(usage).toMatchObject({ completion_tokens: 4 });
    expect(lastRequest().body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it("translates an Anthropic Messages call, tool results included, and drops Anthropic-only options", async () => {
    const message = await anthropic.messages.create({
      model: "gpt-4o",
      max_tokens: 64,
      system: "You are a weather bot.",
      // An Anthropic-only sampling option: meaningless to OpenAI, so never sent there.
      ...({ top_k: 5 } as object),
      tools: [
        { name: "get_weather", input_schema: { type: "object", properties: { city: { type: "string" } } } },
      ],
      messages: [
        { role: "user", content: "Weather in Oslo?" },
        {
          role: "assistant",
          content: [{ type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Oslo" } }],
        },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "toolu_1", content: "-3 degrees" },
            { type: "text", text: "So?" },
          ],
        },
      ],
    });
    expect(message.content).toEqual([{ type: "text", text: "Echo: So?" }]);
    expect(lastRequest().body).toEqual({
      model: "gpt-4o",
      max_completion_tokens: 64,
      tools: [
        {
          type: "function",
          function: {
            name: "get_weather",
            parameters: { type: "object", properties: { city: { type: "string" } } },
          },
        },
      ],
      messages: [
        { role: "system", content: "You are a weather bot." },
        { role: "user", content: "Weather in Oslo?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            {
              id: "toolu_1",
              type: "function",
              function: { name: "get_weather", arguments: '{"city":"Oslo"}' },
            },
          ],
        },
        { role: "tool", tool_call_id: "toolu_1", content: "-3 degrees" },
        { role: "user", content: "So?" },
      ],
    });
  });

  it("reports cached and reasoning tokens exactly, to both kinds of client, whole and streamed", async () => {
    const ask = "hello world [emulator:cached=30]";
    const whole = await openai.chat.completions.create({
      model: "gpt-4o",
      reasoning_effort: "low",
      messages: [{ role: "user", content: ask }],
    });
    // The emulator counts 3 prompt words (directive included), 3 answer words and 4 reasoning words.
    expect(whole.usage).toMatchObject({
      prompt_tokens: 33,
      completion_tokens: 7,
      prompt_tokens_details: { cached_tokens: 30 },
      completion_tokens_details: { reasoning_tokens: 4 },
    });
    const chunks = await openai.chat.completions.create({
      model: "gpt-4o",
      reasoning_effort: "low",
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: ask }],
    });
    let streamed: OpenAI.CompletionUsage | undefined;
    for await (const chunk of chunks) streamed = chunk.usage ?? streamed;
    expect(streamed).toEqual(whole.usage);
    // Anthropic counts cache reads apart from input_tokens.
    const message = await anthropic.messages.create({
      model: "gpt-4o",
      max_tokens: 64,
      messages: [{ role: "user", content: ask }],
    });
    expect(message.usage).toMatchObject({ input_tokens: 3, cache_read_input_tokens: 30, output_tokens: 3 });
  });

  it("takes temperatures up to 2 and one call at a time, and leaves Anthropic's cache_control out (OpenAI caches prompts by itself)", async () => {
    const completion = await openai.chat.completions.create({
      model: "gpt-4o",
      temperature: 1.5,
      parallel_tool_calls: false,
      tools: [{ type: "function", function: { name: "lookup", parameters: { type: "object" } } }],
      messages: [{ role: "user", content: "both [emulator:calls=2]" }],
    });
    expect(lastRequest().body).toMatchObject({ temperature: 1.5, parallel_tool_calls: false });
    expect(completion.choices[0]?.message.tool_calls).toHaveLength(1);
    await anthropic.messages.create({
      model: "gpt-4o",
      max_tokens: 64,
      system: [{ type: "text", text: "A long system prompt.", cache_control: { type: "ephemeral" } }],
      messages: [
        {
          role: "user",
          content: [{ type: "text", text: "hi", cache_control: { type: "ephemeral", ttl: "1h" } }],
        },
      ],
    });
    expect(JSON.stringify(lastRequest().body)).not.toContain("cache_control");
    expect(lastRequest().body).toMatchObject({
      messages: [
        { role: "system", content: "A long system prompt." },
        { role: "user", content: "hi" },
      ],
    });
  });

  it("streams a provider's tool call back as Anthropic tool_use", async () => {
    const final = await anthropic.messages
      .stream({
        model: "gpt-4o",
        max_tokens: 64,
        tools: [{ name: "lookup", input_schema: { type: "object", properties: {} } }],
        tool_choice: { type: "any" },
        messages: [{ role: "user", content: "Look it up" }],
      })
      .finalMessage();
    expect(final.stop_reason).toBe("tool_use");
    expect(final.content).toEqual([{ type: "tool_use", id: "call_emu_0", name: "lookup", input: { n: 0 } }]);
  });

  it("embeds through the provider", async () => {
    const result = await openai.embeddings.create({
      model: "gpt-4o",
      input: ["a", "bb"],
      encoding_format: "float",
    });
    expect(result.data.map((item) => item.embedding.length)).toEqual([64, 64]);
    expect(lastRequest().path).toBe("/v1/embeddings");
  });

  it("maps provider errors: a refused key becomes a 502 that never echoes it, 429 keeps retry-after, 404 stays 404", async () => {
    const refused = await openai.chat.completions
      .create({ model: "bad-key", messages: [{ role: "user", content: "x" }] })
      .catch((error) => error);
    expect(refused).toBeInstanceOf(OpenAI.InternalServerError);
    expect(refused.status).toBe(502);
    expect(JSON.stringify(refused.error)).not.toMatch(/sk-|wrong|\*\*\*/);

    const limited = await openai.chat.completions
      .create({ model: "gpt-4o", messages: [{ role: "user", content: "x [emulator:status=429]" }] })
      .catch((error) => error);
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
    expect(limited.headers.get("retry-after")).toBe("2");

    const missing = await openai.chat.completions
      .create({ model: "missing-model", messages: [{ role: "user", content: "x" }] })
      .catch((error) => error);
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
    expect(missing.message).toMatch(/does not exist/);

    const broken = await openai.chat.completions
      .create({ model: "gpt-4o", messages: [{ role: "user", content: "x [emulator:status=500]" }] })
      .catch((error) => error);
    expect(broken.status).toBe(502);
  });

  it("ends a stream with an error event when the provider fails mid-stream", async () => {
    const stream = await openai.chat.completions.create({
      model: "gpt-4o",
      stream: true,
      messages: [{ role: "user", content: "a b c d [emulator:midstream]" }],
    });
    const received: string[] = [];
    const failure = await (async () => {
      for await (const chunk of stream) received.push(chunk.choices[0]?.delta.content ?? "");
    })().catch((error) => error);
    expect(received.join("")).toBe("Echo: a");
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect(failure.message).toMatch(/failed mid-stream/);
  });

  it("never lets a request send the provider key elsewhere", async () => {
    const before = emulator.requests.length;
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${testKey}`,
        "x-forwarded-host": new URL(attacker.url).host,
        "x-base-url": attacker.url,
      },
      body: JSON.stringify({
        model: "gpt-4o",
        messages: [{ role: "user", content: "hi" }],
        api_base: attacker.url,
        base_url: attacker.url,
        baseURL: attacker.url,
        extra_body: { api_base: attacker.url },
        metadata: { base_url: attacker.url },
      }),
    });
    expect(response.status).toBe(200);
    expect(attacker.requests).toHaveLength(0);
    expect(emulator.requests.length).toBe(before + 1);
  });
});

describe("the openai adapter's connections", () => {
  let emulator: OpenAIEmulator;
  let gateway: RunningGateway;
  let openai: OpenAI;

  beforeAll(async () => {
    emulator = await startOpenAIEmulator({ apiKey: providerKey });
    gateway = await startTestGateway(
      testConfig("in-process", {
        providers: [
          {
            name: "openai",
            type: "openai",
            options: {
              baseUrl: emulator.url,
              apiKey: providerKey,
              maxConnections: 4,
              firstByteTimeoutMs: 300,
            },
          },
        ],
        models: [{ name: "gpt-4o", provider: "openai" }],
      }),
    );
    openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: testKey, maxRetries: 0 });
  });
  afterAll(async () => {
    await gateway.close();
    await emulator.close();
  });

  const ask = (content: string, stream = false) =>
    stream
      ? openai.chat.completions.create({
          model: "gpt-4o",
          stream: true,
          messages: [{ role: "user", content }],
        })
      : openai.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content }] });

  it("reuses keep-alive connections, never more than the provider's limit", async () => {
    const before = emulator.connections();
    for (let round = 0; round < 5; round++) {
      await Promise.all(
        Array.from({ length: 10 }, (_, index) =>
          ask(`round ${round} request ${index} [emulator:latency=20]`),
        ),
      );
    }
    expect(emulator.connections() - before).toBeLessThanOrEqual(4);
  });

  it("reports a provider that does not answer in time as a 504, and a dropped connection as a 502", async () => {
    const slow = await ask("x [emulator:latency=1500]").catch((failure: unknown) => failure);
    expect((slow as InstanceType<typeof OpenAI.APIError>).status).toBe(504);
    expect((slow as Error).message).toMatch(/did not answer in time/);

    const reset = await ask("x [emulator:reset]").catch((failure: unknown) => failure);
    expect((reset as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    expect((reset as Error).message).toMatch(/could not be reached/);
  });

  it("ends a stream with an error event when the provider's connection breaks after some tokens", async () => {
    const stream = await ask("one two three four five [emulator:disconnect=3]", true);
    let text = "";
    const failure = await (async () => {
      for await (const chunk of stream as AsyncIterable<OpenAI.ChatCompletionChunk>)
        text += chunk.choices[0]?.delta.content ?? "";
    })().catch((error: unknown) => error);
    expect(text).toBe("Echo: one two");
    expect(failure).toBeInstanceOf(OpenAI.APIError);
  });
});
