import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../app/gateway.ts";
import { startReplay } from "../emulators/replay.ts";
import { startTestGateway, testConfig, testKey } from "../support/gateway.ts";

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url);

/**
 * Streams shaped after the providers' documented examples (fixtures/), replayed byte for byte in
 * 7-byte pieces, through each adapter and out to a client of another API.
 */
describe("recorded provider streams", () => {
  const replays: Array<{ url: string; close(): Promise<void> }> = [];
  let gateway: RunningGateway;
  let openai: OpenAI;
  let anthropic: Anthropic;

  beforeAll(async () => {
    const [anthropicReplay, openaiReplay, geminiReplay] = await Promise.all([
      startReplay(fixture("anthropic-tool-use.sse")),
      startReplay(fixture("openai-tool-call.sse")),
      startReplay(fixture("gemini-stream.sse")),
    ]);
    replays.push(anthropicReplay, openaiReplay, geminiReplay);
    gateway = await startTestGateway(
      testConfig("in-process", {
        providers: [
          { name: "anthropic", type: "anthropic", options: { baseUrl: anthropicReplay.url, apiKey: "k" } },
          { name: "openai", type: "openai", options: { baseUrl: `${openaiReplay.url}/v1`, apiKey: "k" } },
          { name: "gemini", type: "gemini", options: { baseUrl: `${geminiReplay.url}/v1beta`, apiKey: "k" } },
        ],
        models: [
          { name: "recorded-anthropic", provider: "anthropic" },
          { name: "recorded-openai", provider: "openai" },
          { name: "recorded-gemini", provider: "gemini" },
        ],
      }),
    );
    openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: testKey, maxRetries: 0 });
    anthropic = new Anthropic({ baseURL: gateway.url, apiKey: testKey, maxRetries: 0 });
  });
  afterAll(async () => {
    await gateway.close();
    await Promise.all(replays.map((replay) => replay.close()));
  });

  it("Anthropic's text-then-tool_use stream, to an OpenAI client", async () => {
    const stream = openai.chat.completions.stream({
      model: "recorded-anthropic",
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: "What is the weather like in San Francisco?" }],
    });
    const final = await stream.finalChatCompletion();
    const choice = final.choices[0];
    expect(choice?.message.content).toBe("Okay, let's check the weather for San Francisco, CA:");
    const call = choice?.message.tool_calls?.[0];
    expect(
      call?.type === "function" && [call.id, call.function.name, JSON.parse(call.function.arguments)],
    ).toEqual([
      "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
      "get_weather",
      { location: "San Francisco, CA", unit: "fahrenheit" },
    ]);
    expect(choice?.finish_reason).toBe("tool_calls");
    expect(final.usage).toMatchObject({ prompt_tokens: 472, completion_tokens: 89 });
  });

  it("OpenAI's streamed tool call with cached-token usage, to an Anthropic client", async () => {
    const final = await anthropic.messages
      .stream({
        model: "recorded-openai",
        max_tokens: 100,
        messages: [{ role: "user", content: "Weather in Paris?" }],
      })
      .finalMessage();
    expect(final.content).toEqual([
      {
        type: "tool_use",
        id: "call_DdmO9pD3xa9XTPNJ32zg2hcA",
        name: "get_weather",
        input: { location: "Paris,France" },
      },
    ]);
    expect(final.stop_reason).toBe("tool_use");
    // 82 prompt tokens of which 64 read from the cache: Anthropic counts them apart.
    expect(final.usage).toMatchObject({ input_tokens: 18, cache_read_input_tokens: 64, output_tokens: 17 });
  });

  it("Gemini's CRLF-framed SSE stream with thinking tokens, to an OpenAI client", async () => {
    const stream = await openai.chat.completions.create({
      model: "recorded-gemini",
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: "Why is the sky blue?" }],
    });
    let text = "";
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe("The  sky is blue because of Rayleigh scattering: shorter wavelengths scatter more.");
    expect(usage).toMatchObject({
      prompt_tokens: 9,
      completion_tokens: 19 + 31,
      completion_tokens_details: { reasoning_tokens: 31 },
    });
  });
});
