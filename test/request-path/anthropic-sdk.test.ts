import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../app/gateway.ts";
import { eventually } from "../support/eventually.ts";
import { busKinds, startTestGateway, testConfig, testKey } from "../support/gateway.ts";

const weatherTool: Anthropic.Tool = {
  name: "get_weather",
  description: "Current weather in a city",
  input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
};

describe.each(busKinds)("the Anthropic SDK against the gateway on the %s bus", (bus) => {
  let gateway: RunningGateway;
  let client: Anthropic;
  beforeAll(async () => {
    gateway = await startTestGateway(testConfig(bus));
    client = new Anthropic({ baseURL: gateway.url, apiKey: testKey, maxRetries: 0 });
  });
  afterAll(() => gateway.close());

  it("answers a message, with a system prompt", async () => {
    const message = await client.messages.create({
      model: "mock",
      max_tokens: 100,
      system: "Be brief.",
      messages: [{ role: "user", content: "Hello there" }],
    });
    expect(message).toMatchObject({
      type: "message",
      role: "assistant",
      model: "mock",
      content: [{ type: "text", text: "You said: Hello there" }],
      stop_reason: "end_turn",
      usage: { input_tokens: 4, output_tokens: 4 },
    });
    expect(message.id).toMatch(/^msg_/);
  });

  it("streams a message with Anthropic's event sequence", async () => {
    const stream = client.messages.stream({
      model: "mock",
      max_tokens: 100,
      messages: [{ role: "user", content: "Stream [mock:tokens=4]" }],
    });
    const types: string[] = [];
    const texts: string[] = [];
    stream.on("streamEvent", (event) => types.push(event.type));
    stream.on("text", (text) => texts.push(text));
    const final = await stream.finalMessage();
    expect(texts).toEqual(["lorem", " ipsum", " dolor", " sit"]);
    expect(types[0]).toBe("message_start");
    expect(types.slice(1, 2)).toEqual(["content_block_start"]);
    expect(types.slice(-3)).toEqual(["content_block_stop", "message_delta", "message_stop"]);
    expect(final.content).toEqual([{ type: "text", text: "lorem ipsum dolor sit" }]);
    expect(final.stop_reason).toBe("end_turn");
    expect(final.usage.output_tokens).toBe(4);
  });

  it("stops at max_tokens and stop sequences", async () => {
    const short = await client.messages.create({
      model: "mock",
      max_tokens: 2,
      messages: [{ role: "user", content: "one two three" }],
    });
    expect(short.stop_reason).toBe("max_tokens");
    const stopped = await client.messages.create({
      model: "mock",
      max_tokens: 50,
      stop_sequences: ["three"],
      messages: [{ role: "user", content: "one two three" }],
    });
    expect(stopped.content).toEqual([{ type: "text", text: "You said: one two " }]);
    expect([stopped.stop_reason, stopped.stop_sequence]).toEqual(["stop_sequence", "three"]);
  });

  it("uses a tool, streams its input as JSON deltas, and takes the tool result back", async () => {
    const stream = client.messages.stream({
      model: "mock",
      max_tokens: 100,
      tools: [weatherTool],
      tool_choice: { type: "any" },
      messages: [{ role: "user", content: "Weather in Paris?" }],
    });
    const partials: string[] = [];
    stream.on("inputJson", (partial) => partials.push(partial));
    const final = await stream.finalMessage();
    expect(final.stop_reason).toBe("tool_use");
    const use = final.content.find((block) => block.type === "tool_use");
    expect(use).toMatchObject({ type: "tool_use", name: "get_weather", input: { city: "mock" } });
    expect(partials.length).toBeGreaterThanOrEqual(2);

    const next = await client.messages.create({
      model: "mock",
      max_tokens: 100,
      tools: [weatherTool],
      messages: [
        { role: "user", content: "Weather in Paris?" },
        { role: "assistant", content: final.content },
        {
          role: "user",
          content: [
            {
              type: "tool_result",
              tool_use_id: use?.type === "tool_use" ? use.id : "",
              content: "18 degrees",
            },
            { type: "text", text: "Thanks" },
          ],
        },
      ],
    });
    expect(next.content).toEqual([{ type: "text", text: "You said: 18 degrees Thanks" }]);
  });

  it("takes images as base64 and URL sources", async () => {
    const message = await client.messages.create({
      model: "mock",
      max_tokens: 50,
      messages: [
        {
          role: "user",
          content: [
            { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
            { type: "image", source: { type: "url", url: "https://example.com/cat.png" } },
            { type: "text", text: "Describe both" },
          ],
        },
      ],
    });
    expect(message.content).toEqual([{ type: "text", text: "You said: Describe both" }]);
  });

  it("lists models in Anthropic's shape", async () => {
    const page = await client.models.list();
    expect(page.data.map((model) => model.id)).toEqual(["mock"]);
  });

  it("answers a call it does not serve, e.g. the legacy Text Completions API, with a 404 in Anthropic's shape", async () => {
    // This SDK no longer has a method for /v1/complete; its generic post speaks to it as the old one did.
    const completing = client.post("/v1/complete", {
      body: { model: "mock", max_tokens_to_sample: 5, prompt: "\n\nHuman: x\n\nAssistant:" },
    });
    await expect(completing).rejects.toBeInstanceOf(Anthropic.NotFoundError);
    await expect(completing).rejects.toMatchObject({
      error: { type: "error", error: { type: "not_found_error" } },
    });
  });

  it("raises the SDK's own error classes", async () => {
    const badKey = new Anthropic({ baseURL: gateway.url, apiKey: "wrong-key-123", maxRetries: 0 });
    await expect(
      badKey.messages.create({ model: "mock", max_tokens: 5, messages: [{ role: "user", content: "x" }] }),
    ).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
    await expect(
      client.messages.create({
        model: "claude-nope",
        max_tokens: 5,
        messages: [{ role: "user", content: "x" }],
      }),
    ).rejects.toBeInstanceOf(Anthropic.NotFoundError);
    const missingMaxTokens = client.messages.create({
      model: "mock",
      messages: [{ role: "user", content: "x" }],
    } as never);
    await expect(missingMaxTokens).rejects.toMatchObject({
      status: 400,
      error: { type: "error", error: { type: "invalid_request_error" } },
    });
    await expect(
      client.messages.create({
        model: "mock",
        max_tokens: 5,
        messages: [{ role: "user", content: "x [mock:error=429]" }],
      }),
    ).rejects.toBeInstanceOf(Anthropic.RateLimitError);
  });

  it("stops the provider call when the client aborts a stream", async () => {
    const stream = client.messages.stream({
      model: "mock",
      max_tokens: 5000,
      messages: [{ role: "user", content: "long [mock:tokens=2000] [mock:delay_ms=20]" }],
    });
    let texts = 0;
    stream.on("text", () => {
      if (++texts === 3) stream.abort();
    });
    await expect(stream.finalMessage()).rejects.toBeInstanceOf(Anthropic.APIUserAbortError);
    await eventually(() => expect(gateway.worker?.inFlight).toBe(0));
  });
});
