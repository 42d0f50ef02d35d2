import Anthropic from "@anthropic-ai/sdk";
import { Value } from "@sinclair/typebox/value";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../app/gateway.ts";
import { anthropicMessages } from "../../calls/apis/anthropic-messages/index.ts";
import type { ChatRequest } from "../../schemas/request-envelope.ts";
import { vertexProvider } from "../../workers/providers/vertex/index.ts";
import { startVertexEmulator, type VertexEmulator, vertexProject } from "../emulators/vertex.ts";
import { startTestGateway, testConfig, testKey } from "../support/gateway.ts";

const claude = "claude-sonnet-4-5@20250929";
const models = `/v1/projects/${vertexProject}/locations/us-central1/publishers`;

describe("the vertex provider adapter, against a Vertex AI emulator", () => {
  let emulator: VertexEmulator;
  let gateway: RunningGateway;
  let openai: OpenAI;
  let anthropic: Anthropic;

  beforeAll(async () => {
    emulator = await startVertexEmulator();
    const options = { project: vertexProject, baseUrl: emulator.url };
    gateway = await startTestGateway(
      testConfig("in-process", {
        providers: [
          {
            name: "vertex",
            type: "vertex",
            options: { ...options, serviceAccount: emulator.newServiceAccount().json },
          },
          {
            name: "vertex-unknown-key",
            type: "vertex",
            options: { ...options, serviceAccount: emulator.newServiceAccount(false).json },
          },
          {
            name: "vertex-other-project",
            type: "vertex",
            options: { ...options, project: "not-ours", serviceAccount: emulator.newServiceAccount().json },
          },
        ],
        models: [
          { name: "gemini", provider: "vertex", model: "gemini-2.5-flash" },
          { name: "claude", provider: "vertex", model: claude },
          { name: "embedder", provider: "vertex", model: "text-embedding-005" },
          { name: "missing", provider: "vertex", model: "missing-model" },
          { name: "unknown-key", provider: "vertex-unknown-key", model: "gemini-2.5-flash" },
          { name: "other-project", provider: "vertex-other-project", model: "gemini-2.5-flash" },
        ],
      }),
    );
    openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: testKey, maxRetries: 0 });
    anthropic = new Anthropic({ baseURL: gateway.url, apiKey: testKey, maxRetries: 0 });
  });
  afterAll(async () => {
    await gateway?.close();
    await emulator?.close();
  });

  const lastRequest = () => emulator.requests.at(-1) as VertexEmulator["requests"][number];
  const failureOf = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      (failure: unknown) => failure as InstanceType<typeof OpenAI.APIError>,
    );

  it("sends a Gemini model's chat to generateContent, in Gemini's format, with the service account's token", async () => {
    const completion = await openai.chat.completions.create({
      model: "gemini",
      max_tokens: 50,
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "hello" },
      ],
    });
    expect(completion.choices[0]?.message.content).toBe("Echo: hello");
    const sent = lastRequest();
    expect(sent.path).toBe(`${models}/google/models/gemini-2.5-flash:generateContent`);
    expect(sent.headers.authorization).toMatch(/^Bearer ya29\.emu-/);
    expect(sent.body).toEqual({
      systemInstruction: { parts: [{ text: "Be brief." }] },
      contents: [{ role: "user", parts: [{ text: "hello" }] }],
      generationConfig: { maxOutputTokens: 50 },
    });

    const stream = await openai.chat.completions.create({
      model: "gemini",
      stream: true,
      messages: [{ role: "user", content: "one two" }],
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toBe("Echo: one two");
    expect(lastRequest().path).toBe(`${models}/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse`);
  });

  it("sends a Claude model's chat to streamRawPredict in Anthropic's format: anthropic_version in the body, the model in the URL, thinking and cache_control untouched", async () => {
    const message = await anthropic.messages
      .stream({
        model: "claude",
        max_tokens: 2000,
        thinking: { type: "enabled", budget_tokens: 1024 },
        system: [{ type: "text", text: "Rules.", cache_control: { type: "ephemeral" } }],
        messages: [
          {
            role: "user",
            content: [{ type: "text", text: "hi [emulator:cached]", cache_control: { type: "ephemeral" } }],
          },
        ],
      })
      .finalMessage();
    expect(message.content.map((block) => block.type)).toEqual(["thinking", "text"]);
    expect(message.content[1]).toMatchObject({ type: "text", text: "Echo: hi" });
    expect(message.usage).toMatchObject({ cache_read_input_tokens: 100, cache_creation_input_tokens: 20 });
    const sent = lastRequest();
    expect(sent.path).toBe(`${models}/anthropic/models/${claude}:streamRawPredict`);
    expect(sent.headers.authorization).toMatch(/^Bearer ya29\.emu-/);
    expect(sent.headers["anthropic-version"]).toBeUndefined();
    expect(sent.body).toEqual({
      anthropic_version: "vertex-2023-10-16",
      max_tokens: 2000,
      thinking: { type: "enabled", budget_tokens: 1024 },
      system: [{ type: "text", text: "Rules.", cache_control: { type: "ephemeral" } }],
      messages: [
        {
          role: "user",
          content: [{ type: "text", text: "hi [emulator:cached]", cache_control: { type: "ephemeral" } }],
        },
      ],
      stream: true,
    });
  });

  it("sends a whole Claude answer's call to rawPredict", async () => {
    const completion = await openai.chat.completions.create({
      model: "claude",
      messages: [{ role: "user", content: "whole" }],
    });
    expect(completion.choices[0]?.message.content).toBe("Echo: whole");
    expect(completion.model).toBe("claude");
    expect(lastRequest().path).toBe(`${models}/anthropic/models/${claude}:rawPredict`);
    expect(lastRequest().body).not.toHaveProperty("model");
    expect(lastRequest().body).not.toHaveProperty("stream");
  });

  it("embeds through predict, one instance a text, with Vertex's own token counts", async () => {
    const result = await openai.embeddings.create({
      model: "embedder",
      input: ["one two", "three"],
      dimensions: 4,
    });
    // Sent as float32 (the OpenAI client asks for base64): compared to a tenth.
    const tenths = (vector: number[]) => vector.map((value) => Math.round(value * 10) / 10);
    expect(result.data.map((item) => tenths(item.embedding))).toEqual([
      [0.7, 0.8, 0.9, 1],
      [0.5, 0.6, 0.7, 0.8],
    ]);
    expect(result.usage.prompt_tokens).toBe(3);
    expect(lastRequest().path).toBe(`${models}/google/models/text-embedding-005:predict`);
    expect(lastRequest().body).toEqual({
      instances: [{ content: "one two" }, { content: "three" }],
      parameters: { outputDimensionality: 4 },
    });
    const claudeEmbedding = await failureOf(openai.embeddings.create({ model: "claude", input: "x" }));
    expect(claudeEmbedding?.status).toBe(400);
  });

  it("maps Google's errors: RESOURCE_EXHAUSTED with its retry delay, INVALID_ARGUMENT, NOT_FOUND, UNAVAILABLE, PERMISSION_DENIED", async () => {
    const ask = (model: string, content: string) =>
      failureOf(openai.chat.completions.create({ model, messages: [{ role: "user", content }] }));
    const limited = await ask("gemini", "x [emulator:status=429]");
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
    expect(limited?.headers?.get("retry-after")).toBe("7");
    const invalid = await ask("gemini", "x [emulator:status=400]");
    expect(invalid?.status).toBe(400);
    expect(invalid?.message).toContain("vertex: Emulated failure with status 400");
    expect((await ask("missing", "x"))?.status).toBe(404);
    expect((await ask("gemini", "x [emulator:status=503]"))?.status).toBe(503);
    const otherProject = await ask("other-project", "x");
    expect(otherProject?.status).toBe(502);
    expect(otherProject?.message).toContain("vertex refused the gateway's credentials (HTTP 403)");
    // Claude's errors come in Anthropic's shape, and map the same.
    expect((await ask("claude", "x [emulator:status=529]"))?.status).toBe(503);
  });

  it("tells the caller, in its API's shape, that Google refused the service account's key", async () => {
    const refused = await failureOf(
      anthropic.messages.create({
        model: "unknown-key",
        max_tokens: 10,
        messages: [{ role: "user", content: "x" }],
      }),
    );
    expect(refused?.status).toBe(502);
    expect((refused?.error as { error?: { type?: string; message?: string } })?.error).toMatchObject({
      type: "api_error",
      message: expect.stringMatching(
        /^vertex could not get an access token for .*: invalid_grant \(Invalid JWT Signature\.\)$/,
      ),
    });
  });
});

describe("vertex token counts", () => {
  let emulator: VertexEmulator;
  beforeAll(async () => {
    emulator = await startVertexEmulator();
  });
  afterAll(() => emulator.close());

  const request = anthropicMessages.parse({
    model: "m",
    max_tokens: 100,
    system: "Be brief.",
    tools: [{ name: "lookup", input_schema: { type: "object" } }],
    messages: [{ role: "user", content: "count these four words" }],
  } as never).chat as ChatRequest;
  const count = (model: string) => {
    const options = {
      project: vertexProject,
      baseUrl: emulator.url,
      serviceAccount: emulator.newServiceAccount().json,
    };
    const provider = vertexProvider.create(Value.Default(vertexProvider.optionsSchema, options) as never);
    const call = { model, signal: new AbortController().signal, inboundApi: "anthropic_messages" as const };
    return provider.countTokens?.(request, call);
  };

  it("counts a Gemini prompt with countTokens: its contents, system instruction and tools", async () => {
    // The emulator counts words and 10 a tool: 4 + 2 + 10.
    expect(await count("gemini-2.5-flash")).toBe(16);
    const sent = emulator.requests.at(-1);
    expect(sent?.path).toBe(`${models}/google/models/gemini-2.5-flash:countTokens`);
    expect(Object.keys(sent?.body ?? {}).sort()).toEqual(["contents", "systemInstruction", "tools"]);
  });

  it("counts a Claude prompt with the count-tokens model, which takes the model in the body and no max_tokens", async () => {
    expect(await count(claude)).toBe(16);
    const sent = emulator.requests.at(-1);
    expect(sent?.path).toBe(`${models}/anthropic/models/count-tokens:rawPredict`);
    expect(sent?.body).toMatchObject({ anthropic_version: "vertex-2023-10-16", model: claude });
    expect(sent?.body).not.toHaveProperty("max_tokens");
  });
});
