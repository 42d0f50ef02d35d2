import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../app/gateway.ts";
import { type AnthropicEmulator, startAnthropicEmulator } from "../emulators/anthropic.ts";
import { startTestGateway, testConfig, testKey } from "../support/gateway.ts";

const providerKey = "sk-ant-emulator-0123456789";

describe("the anthropic provider adapter, against an Anthropic emulator", () => {
  let emulator: AnthropicEmulator;
  let gateway: RunningGateway;
  let openai: OpenAI;
  let anthropic: Anthropic;

  beforeAll(async () => {
    emulator = await startAnthropicEmulator({ apiKey: providerKey });
    gateway = await startTestGateway(
      testConfig("in-process", {
        providers: [
          { name: "anthropic", type: "anthropic", options: { baseUrl: emulator.url, apiKey: providerKey } },
          {
            name: "anthropic-bad-key",
            type: "anthropic",
            options: { baseUrl: emulator.url, apiKey: "sk-ant-wrong" },
          },
        ],
        models: [
          { name: "claude", provider: "anthropic", model: "claude-sonnet-4-5" },
          { name: "claude-missing", provider: "anthropic", model: "missing-model" },
          { name: "claude-bad-key", provider: "anthropic-bad-key", model: "claude-sonnet-4-5" },
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

  const lastRequest = () => emulator.requests.at(-1) as AnthropicEmulator["requests"][number];

  it("translates an OpenAI chat into a Messages call: one system prompt, tool results in user turns, a default max_tokens", async () => {
    const completion = await openai.chat.completions.create({
      model: "claude",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Weather?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            { id: "call_1", type: "function", function: { name: "weather", arguments: '{"city":"Rome"}' } },
          ],
        },
        { role: "tool", tool_call_id: "call_1", content: "sunny" },
        { role: "developer", content: "Answer in English." },
        { role: "user", content: "And now?" },
      ],
      tools: [
        {
          type: "function",
          function: {
            name: "weather",
            parameters: { type: "object", properties: { city: { type: "string" } } },
          },
        },
      ],
    });
    expect(completion.choices[0]).toMatchObject({
      message: { content: "Echo: And now?" },
      finish_reason: "stop",
    });
    const sent = lastRequest();
    expect(sent.headers["x-api-key"]).toBe(providerKey);
    expect(sent.headers["anthropic-version"]).toBe("2023-06-01");
    expect(sent.body).toEqual({
      model: "claude-sonnet-4-5",
      max_tokens: 4096,
      system: [
        { type: "text", text: "Be brief." },
        { type: "text", text: "Answer in English." },
      ],
      messages: [
        { role: "user", content: [{ type: "text", text: "Weather?" }] },
        {
          role: "assistant",
          content: [{ type: "tool_use", id: "call_1", name: "weather", input: { city: "Rome" } }],
        },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "call_1", content: "sunny" }] },
        { role: "user", content: [{ type: "text", text: "And now?" }] },
      ],
      tools: [
        { name: "weather", input_schema: { type: "object", properties: { city: { type: "string" } } } },
      ],
    });
  });

  it("sends images as base64 and URL sources, and maps an unknown model to a 404", async () => {
    await openai.chat.completions.create({
      model: "claude",
      messages: [
        {
          role: "user",
          content: [
            { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
            { type: "image_url", image_url: { url: "https://example.com/cat.png" } },
            { type: "text", text: "Which is the cat?" },
          ],
        },
      ],
    });
    expect(lastRequest().body.messages).toEqual([
      {
        role: "user",
        content: [
          { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
          { type: "image", source: { type: "url", url: "https://example.com/cat.png" } },
          { type: "text", text: "Which is the cat?" },
        ],
      },
    ]);
    const missing = await anthropic.messages
      .create({ model: "claude-missing", max_tokens: 5, messages: [{ role: "user", content: "x" }] })
      .catch((failure: unknown) => failure);
    expect(missing).toBeInstanceOf(Anthropic.NotFoundError);
  });

  it("streams to an OpenAI client with exact usage, cached tokens included", async () => {
    const stream = await openai.chat.completions.create({
      model: "claude",
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: "one two [emulator:cached]" }],
    });
    const deltas: string[] = [];
    let usage: OpenAI.CompletionUsage | undefined;
    let finish: string | null = null;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) deltas.push(chunk.choices[0].delta.content);
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    expect(deltas).toEqual(["Echo:", " one", " two"]);
    expect(finish).toBe("stop");
    expect(usage).toMatchObject({
      prompt_tokens: 130,
      completion_tokens: 3,
      prompt_tokens_details: { cached_tokens: 100 },
    });
  });

  it("streams a tool call's arguments to an OpenAI client, finishing with tool_calls", async () => {
    const final = await openai.chat.completions
      .stream({
        model: "claude",
        tool_choice: "required",
        tools: [
          {
            type: "function",
            function: {
              name: "search",
              parameters: { type: "object", properties: { query: { type: "string" } } },
            },
          },
        ],
        messages: [{ role: "user", content: "find it" }],
      })
      .finalChatCompletion();
    const call = final.choices[0]?.message.tool_calls?.[0];
    expect(
      call?.type === "function" && [call.id, call.function.name, JSON.parse(call.function.arguments)],
    ).toEqual(["toolu_emu00", "search", { n: 0 }]);
    expect(final.choices[0]?.finish_reason).toBe("tool_calls");
    expect(lastRequest().body.tool_choice).toEqual({ type: "any" });
  });

  it("passes an Anthropic client's own options through and keeps stop reasons", async () => {
    const stream = anthropic.messages.stream({
      model: "claude",
      max_tokens: 50,
      stop_sequences: ["three"],
      ...({ top_k: 7 } as object),
      messages: [{ role: "user", content: "one two three four" }],
    });
    const final = await stream.finalMessage();
    expect(final.content).toEqual([{ type: "text", text: "Echo: one two " }]);
    // Anthropic to Anthropic keeps which stop sequence ended the answer.
    expect(final.stop_reason).toBe("stop_sequence");
    expect(final.stop_sequence).toBe("three");
    expect(lastRequest().body).toMatchObject({
      top_k: 7,
      max_tokens: 50,
      stop_sequences: ["three"],
      stream: true,
    });
  });

  it("passes cache_control through untouched, on system, content blocks and tools, and counts cache reads and writes apart", async () => {
    const message = await anthropic.messages.create({
      model: "claude",
      max_tokens: 64,
      system: [
        { type: "text", text: "Rules.", cache_control: { type: "ephemeral" } },
        { type: "text", text: "More rules." },
      ],
      tools: [
        { name: "lookup", input_schema: { type: "object" }, cache_control: { type: "ephemeral", ttl: "1h" } },
      ],
      messages: [
        {
          role: "user",
          content: [{ type: "text", text: "hi [emulator:cached]", cache_control: { type: "ephemeral" } }],
        },
      ],
    });
    expect(lastRequest().body).toMatchObject({
      system: [
        { type: "text", text: "Rules.", cache_control: { type: "ephemeral" } },
        { type: "text", text: "More rules." },
      ],
      tools: [
        { name: "lookup", input_schema: { type: "object" }, cache_control: { type: "ephemeral", ttl: "1h" } },
      ],
      messages: [
        {
          role: "user",
          content: [{ type: "text", text: "hi [emulator:cached]", cache_control: { type: "ephemeral" } }],
        },
      ],
    });
    expect(message.usage).toMatchObject({
      input_tokens: 10,
      cache_read_input_tokens: 100,
      cache_creation_input_tokens: 20,
    });
  });

  it("tells Anthropic to make one call at a time when an OpenAI caller forbids parallel calls", async () => {
    const completion = await openai.chat.completions.create({
      model: "claude",
      parallel_tool_calls: false,
      tools: [{ type: "function", function: { name: "lookup", parameters: { type: "object" } } }],
      messages: [{ role: "user", content: "both [emulator:calls=2]" }],
    });
    expect(lastRequest().body).toMatchObject({
      tool_choice: { type: "auto", disable_parallel_tool_use: true },
    });
    expect(completion.choices[0]?.message.tool_calls).toHaveLength(1);
  });

  it("refuses what Anthropic cannot do with a clear 400, before calling it", async () => {
    const before = emulator.requests.length;
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ n: 2 }, "n"],
      [{ response_format: { type: "json_object" } }, "response_format"],
      [{ seed: 1 }, "seed"],
      [{ temperature: 1.5 }, "temperature"],
    ];
    for (const [options, param] of cases) {
      const error = await openai.chat.completions
        .create({ model: "claude", messages: [{ role: "user", content: "x" }], ...options })
        .catch((failure: unknown) => failure);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect((error as InstanceType<typeof OpenAI.BadRequestError>).message).toMatch(
        new RegExp(`^400 ${param}: the anthropic provider cannot`),
      );
    }
    const embeddings = await openai.embeddings
      .create({ model: "claude", input: "x" })
      .catch((failure: unknown) => failure);
    expect(embeddings).toBeInstanceOf(OpenAI.BadRequestError);
    expect(emulator.requests.length).toBe(before);
  });

  it("maps Anthropic's errors: overload keeps retry-after (503 for OpenAI callers, 529 for Anthropic ones), a refused key is a 502", async () => {
    const openaiOverloaded = await openai.chat.completions
      .create({ model: "claude", messages: [{ role: "user", content: "x [emulator:status=529]" }] })
      .catch((failure: unknown) => failure);
    expect(openaiOverloaded).toBeInstanceOf(OpenAI.InternalServerError);
    expect((openaiOverloaded as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
    expect((openaiOverloaded as InstanceType<typeof OpenAI.APIError>).headers?.get("retry-after")).toBe("3");

    const anthropicOverloaded = await anthropic.messages
      .create({
        model: "claude",
        max_tokens: 5,
        messages: [{ role: "user", content: "x [emulator:status=529]" }],
      })
      .catch((failure: unknown) => failure);
    expect((anthropicOverloaded as InstanceType<typeof Anthropic.APIError>).status).toBe(529);

    const refused = await anthropic.messages
      .create({ model: "claude-bad-key", max_tokens: 5, messages: [{ role: "user", content: "x" }] })
      .catch((failure: unknown) => failure);
    expect((refused as InstanceType<typeof Anthropic.APIError>).status).toBe(502);
    expect(JSON.stringify((refused as InstanceType<typeof Anthropic.APIError>).error)).not.toMatch(/sk-ant/);
  });

  it("ends a stream with an error event when Anthropic fails mid-stream", async () => {
    const stream = anthropic.messages.stream({
      model: "claude",
      max_tokens: 50,
      messages: [{ role: "user", content: "a b c d [emulator:midstream]" }],
    });
    const texts: string[] = [];
    stream.on("text", (text) => texts.push(text));
    const failure = await stream.finalMessage().catch((error: unknown) => error);
    expect(texts.join("")).toBe("Echo: a");
    expect(failure).toBeInstanceOf(Anthropic.APIError);
  });
});
