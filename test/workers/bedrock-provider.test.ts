import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AnthropicMessagesBody } from "../../calls/apis/anthropic-messages/request.ts";
import type { ChatRequest, EmbeddingsRequest } from "../../schemas/request-envelope.ts";
import { bedrockEvents } from "../../workers/providers/bedrock/event-stream.ts";
import type { ChatPart, Provider } from "../../workers/providers/provider.ts";
import { type BedrockEmulator, startBedrockEmulator } from "../emulators/bedrock.ts";
import { eventStreamFrame } from "../emulators/event-stream.ts";
import {
  ask,
  bedrock,
  callOptions,
  chatOf,
  claude,
  collect,
  keys,
  region,
  textOf,
} from "../support/bedrock.ts";

describe("the bedrock provider adapter, against a Bedrock emulator", () => {
  let emulator: BedrockEmulator;
  let provider: Provider;

  beforeAll(async () => {
    emulator = await startBedrockEmulator({ region, ...keys });
    provider = bedrock({ baseUrl: emulator.url, ...keys });
  });
  afterAll(() => emulator.close());
  const lastRequest = () => emulator.requests.at(-1) as BedrockEmulator["requests"][number];

  it("sends a non-Anthropic model to Converse: system, turns, inference settings, tools and cache points", async () => {
    const request = chatOf({
      system: [{ type: "text", text: "Be brief.", cache_control: { type: "ephemeral" } }],
      temperature: 0.3,
      stop_sequences: ["END"],
      tools: [{ name: "lookup", description: "Look up", input_schema: { type: "object" } }],
      tool_choice: { type: "auto" },
      messages: [{ role: "user", content: "hello there" }],
    });
    const parts = await collect(provider.chat(request, callOptions("amazon.nova-pro-v1:0", false)));
    expect(textOf(parts)).toBe("Echo: hello there");
    expect(parts.find((part) => part.type === "finish")).toMatchObject({ reason: "stop" });
    const sent = lastRequest();
    expect(sent.path).toBe("/model/amazon.nova-pro-v1%3A0/converse");
    expect(sent.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIAPROVIDERTEST\/\d{8}\/eu-west-3\/bedrock\//,
    );
    expect(sent.body).toEqual({
      system: [{ text: "Be brief." }, { cachePoint: { type: "default" } }],
      messages: [{ role: "user", content: [{ text: "hello there" }] }],
      inferenceConfig: { maxTokens: 500, temperature: 0.3, stopSequences: ["END"] },
      toolConfig: {
        tools: [
          { toolSpec: { name: "lookup", description: "Look up", inputSchema: { json: { type: "object" } } } },
        ],
        toolChoice: { auto: {} },
      },
    });
  });

  it("signs the headers configured on the entry with the rest, so a proxy or Bedrock can trust them", async () => {
    const withHeaders = bedrock({
      baseUrl: emulator.url,
      ...keys,
      headers: { "X-Amzn-Bedrock-Trace": "ENABLED" },
    });
    const parts = await collect(
      withHeaders.chat(ask("signed too"), callOptions("amazon.nova-pro-v1:0", false)),
    );
    expect(textOf(parts)).toBe("Echo: signed too");
    const sent = lastRequest();
    expect(sent.headers["x-amzn-bedrock-trace"]).toBe("ENABLED");
    expect(sent.headers.authorization).toMatch(/SignedHeaders=[^,]*x-amzn-bedrock-trace/);
  });

  it("carries a tool loop to Converse: images as bytes, signed reasoning put back, tool results in the user turn", async () => {
    const request = chatOf({
      tools: [{ name: "lookup", input_schema: { type: "object" } }],
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "look" },
            { type: "image", source: { type: "base64", media_type: "image/jpeg", data: "/9j/4AAQ" } },
          ],
        },
        {
          role: "assistant",
          content: [
            { type: "thinking", thinking: "hmm", signature: "sig-1" },
            { type: "tool_use", id: "t1", name: "lookup", input: { q: "x" } },
          ],
        },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "t1", content: "found", is_error: true },
            { type: "text", text: "thanks" },
          ],
        },
      ],
    } as Partial<AnthropicMessagesBody>);
    expect(textOf(await collect(provider.chat(request, callOptions("m", false))))).toBe("Echo: thanks");
    expect(lastRequest().body.messages).toEqual([
      {
        role: "user",
        content: [{ text: "look" }, { image: { format: "jpeg", source: { bytes: "/9j/4AAQ" } } }],
      },
      {
        role: "assistant",
        content: [
          { reasoningContent: { reasoningText: { text: "hmm", signature: "sig-1" } } },
          { toolUse: { toolUseId: "t1", name: "lookup", input: { q: "x" } } },
        ],
      },
      {
        role: "user",
        content: [
          { toolResult: { toolUseId: "t1", content: [{ text: "found" }], status: "error" } },
          { text: "thanks" },
        ],
      },
    ]);
    const refused = (changed: Partial<ChatRequest>) =>
      collect(provider.chat({ ...ask("hi"), ...changed }, callOptions("m", false)));
    await expect(refused({ n: 2 })).rejects.toMatchObject({
      code: "invalid_request",
      details: { param: "n" },
    });
    await expect(refused({ seed: 1 })).rejects.toMatchObject({
      code: "invalid_request",
      details: { param: "seed" },
    });
    const byUrl = chatOf({
      messages: [
        {
          role: "user",
          content: [{ type: "image", source: { type: "url", url: "https://example.com/a.png" } }],
        },
      ],
    } as Partial<AnthropicMessagesBody>);
    await expect(collect(provider.chat(byUrl, callOptions("m", false)))).rejects.toMatchObject({
      code: "invalid_request",
      message: "image_url: the bedrock Converse API takes images as base64 data only",
    });
  });

  it("streams ConverseStream's event-stream frames: tool calls, stop reason and usage with cached tokens", async () => {
    const request = chatOf({
      tools: [{ name: "lookup", input_schema: { type: "object" } }],
      messages: [{ role: "user", content: "look both up [emulator:calls=2] [emulator:cached]" }],
    });
    const parts = await collect(provider.chat(request, callOptions("mistral.mistral-large-2407-v1:0", true)));
    const calls = parts.filter((part) => part.type === "tool-call-delta");
    expect(calls.filter((call) => call.id).map((call) => [call.index, call.name])).toEqual([
      [0, "lookup"],
      [1, "lookup"],
    ]);
    expect(
      calls
        .filter((call) => call.index === 1)
        .map((call) => call.argumentsDelta)
        .join(""),
    ).toBe('{"n": 1}');
    expect(parts.at(-2)).toEqual({ type: "finish", choice: 0, reason: "tool_calls" });
    expect(parts.at(-1)).toEqual({
      type: "usage",
      usage: {
        inputTokens: 130,
        outputTokens: 14,
        cachedInputTokens: 100,
        cacheWriteTokens: 20,
        reasoningTokens: 0,
      },
    });
    expect(lastRequest().path).toBe("/model/mistral.mistral-large-2407-v1%3A0/converse-stream");
  });

  it("sends a cross-region Anthropic profile to InvokeModel in Anthropic's body: thinking and cache_control kept", async () => {
    const request = chatOf({
      max_tokens: 4000,
      thinking: { type: "enabled", budget_tokens: 2048 },
      system: [{ type: "text", text: "Be brief.", cache_control: { type: "ephemeral" } }],
      messages: [
        { role: "user", content: [{ type: "text", text: "think", cache_control: { type: "ephemeral" } }] },
      ],
    } as Partial<AnthropicMessagesBody>);
    const parts = await collect(provider.chat(request, callOptions(claude, true)));
    const sent = lastRequest();
    expect(sent.path).toBe(
      "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke-with-response-stream",
    );
    expect(sent.body).toEqual({
      anthropic_version: "bedrock-2023-05-31",
      max_tokens: 4000,
      thinking: { type: "enabled", budget_tokens: 2048 },
      system: [{ type: "text", text: "Be brief.", cache_control: { type: "ephemeral" } }],
      messages: [
        { role: "user", content: [{ type: "text", text: "think", cache_control: { type: "ephemeral" } }] },
      ],
    });
    const reasoning = parts.filter((part) => part.type === "reasoning-delta");
    expect(reasoning.map((part) => part.text ?? "").join("")).toBe("Thinking about: think");
    expect(reasoning.at(-1)?.signature).toMatch(/^sig_/);
    expect(textOf(parts)).toBe("Echo: think");

    const whole = await collect(
      provider.chat(ask("hello"), callOptions("global.anthropic.claude-opus-4-1-v1:0", false)),
    );
    expect(lastRequest().path).toBe("/model/global.anthropic.claude-opus-4-1-v1%3A0/invoke");
    expect(textOf(whole)).toBe("Echo: hello");
  });

  it("maps Bedrock's HTTP errors by x-amzn-ErrorType and an in-stream throttlingException to a rate limit", async () => {
    await expect(
      collect(provider.chat(ask("hi [emulator:status=429]"), callOptions("m", false))),
    ).rejects.toMatchObject({
      code: "rate_limited",
      message: "bedrock is rate limiting: ThrottlingException: Emulated failure with status 429",
    });
    await expect(
      collect(provider.chat(ask("hi"), callOptions("missing-model", false))),
    ).rejects.toMatchObject({
      code: "not_found",
    });
    for (const model of ["cohere.command-r-v1:0", claude]) {
      const parts: ChatPart[] = [];
      const failure = await (async () => {
        for await (const part of provider.chat(
          ask("a b c d [emulator:midstream=throttlingException]"),
          callOptions(model, true),
        ))
          parts.push(part);
      })().catch((error: unknown) => error);
      expect(textOf(parts)).toBe("Echo: a");
      expect(failure).toMatchObject({ code: "rate_limited", status: 429 });
      expect((failure as Error).message).toMatch(/throttlingException mid-stream/);
    }
  });

  it("detects a corrupted frame by its CRC32, in the prelude or in the message", async () => {
    for (const [kind, problem] of [
      ["prelude", "its prelude CRC32 does not match"],
      ["message", "its message CRC32 does not match"],
    ]) {
      for (const model of ["m", claude]) {
        await expect(
          collect(provider.chat(ask(`hello [emulator:corrupt=${kind}]`), callOptions(model, true))),
        ).rejects.toMatchObject({
          code: "provider_error",
          message: `bedrock sent an event stream message that the gateway cannot read: ${problem}`,
        });
      }
    }
  });

  it("reads event-stream frames split anywhere, one byte a read", async () => {
    const frames = Buffer.concat([
      eventStreamFrame(
        { ":message-type": "event", ":event-type": "messageStart" },
        Buffer.from('{"role":"assistant"}'),
      ),
      eventStreamFrame(
        { ":message-type": "event", ":event-type": "messageStop" },
        Buffer.from('{"stopReason":"end_turn"}'),
      ),
      eventStreamFrame(
        { ":message-type": "exception", ":exception-type": "validationException" },
        Buffer.from('{"message":"bad"}'),
      ),
    ]);
    const bytes = async function* () {
      for (const byte of frames) yield Uint8Array.of(byte);
    };
    const events: string[] = [];
    const failure = await (async () => {
      for await (const event of bedrockEvents(bytes())) events.push(`${event.type} ${event.payload}`);
    })().catch((error: unknown) => error);
    expect(events).toEqual(['messageStart {"role":"assistant"}', 'messageStop {"stopReason":"end_turn"}']);
    expect(failure).toMatchObject({
      code: "invalid_request",
      message: "bedrock: validationException mid-stream: bad",
    });
  });

  it("embeds with Titan, one text a call, and with Cohere, all at once", async () => {
    const embeddings = (input: string[], dimensions: number | null): EmbeddingsRequest =>
      ({ model: "e", input, dimensions }) as EmbeddingsRequest;
    const before = emulator.requests.length;
    const titan = await provider.embed(
      embeddings(["one two", "three"], 256),
      callOptions("amazon.titan-embed-text-v2:0", false),
    );
    expect(titan.vectors.map((vector) => vector.length)).toEqual([256, 256]);
    expect(titan.usage.inputTokens).toBe(3);
    expect(emulator.requests.slice(before).map((request) => request.body)).toEqual([
      { inputText: "one two", dimensions: 256 },
      { inputText: "three", dimensions: 256 },
    ]);
    const cohere = await provider.embed(
      embeddings(["a b", "c"], null),
      callOptions("cohere.embed-english-v3", false),
    );
    expect(cohere.vectors.map((vector) => vector.length)).toEqual([1024, 1024]);
    expect(cohere.usage.inputTokens).toBe(3);
    expect(lastRequest().body).toEqual({ texts: ["a b", "c"], input_type: "search_document" });
    await expect(
      provider.embed(embeddings(["x"], null), callOptions("meta.llama3", false)),
    ).rejects.toMatchObject({
      code: "invalid_request",
    });
  });

  it("counts tokens with CountTokens: the InvokeModel body for Anthropic models, the Converse input for others", async () => {
    const request = chatOf({ system: "be brief", messages: [{ role: "user", content: "hello big world" }] });
    const count = (model: string) => provider.countTokens?.(request, callOptions(model, false));
    // The emulator counts a token a word and three a message: 5 words, 1 message.
    expect(await count(claude)).toBe(8);
    const invoked = lastRequest().body as { input: { invokeModel: { body: string } } };
    expect(lastRequest().path).toBe("/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/count-tokens");
    expect(JSON.parse(invoked.input.invokeModel.body)).toMatchObject({
      anthropic_version: "bedrock-2023-05-31",
      system: [{ type: "text", text: "be brief" }],
    });
    expect(await count("amazon.nova-lite-v1:0")).toBe(8);
    expect(lastRequest().body).toEqual({
      input: {
        converse: {
          system: [{ text: "be brief" }],
          messages: [{ role: "user", content: [{ text: "hello big world" }] }],
        },
      },
    });
  });
});
