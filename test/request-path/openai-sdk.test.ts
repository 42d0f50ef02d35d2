import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../app/gateway.ts";
import { eventually } from "../support/eventually.ts";
import {
  busKinds,
  queryAnalytics,
  requestIdOf,
  startTestGateway,
  testConfig,
  testKey,
} from "../support/gateway.ts";

const weatherTool = {
  type: "function" as const,
  function: {
    name: "get_weather",
    description: "Current weather in a city",
    parameters: {
      type: "object",
      properties: { city: { type: "string" }, unit: { type: "string", enum: ["celsius", "fahrenheit"] } },
      required: ["city"],
    },
  },
};
const timeTool = {
  type: "function" as const,
  function: { name: "get_time", parameters: { type: "object", properties: { zone: { type: "string" } } } },
};

describe.each(busKinds)("the OpenAI SDK against the gateway on the %s bus", (bus) => {
  let gateway: RunningGateway;
  let client: OpenAI;
  const config = testConfig(bus);
  beforeAll(async () => {
    gateway = await startTestGateway(config);
    client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: testKey, maxRetries: 0 });
  });
  afterAll(() => gateway.close());

  it("answers a chat completion", async () => {
    const completion = await client.chat.completions.create({
      model: "mock",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Hello there" },
      ],
    });
    expect(completion.object).toBe("chat.completion");
    expect(completion.id).toMatch(/^chatcmpl-/);
    expect(completion.model).toBe("mock");
    expect(completion.choices).toEqual([
      {
        index: 0,
        message: { role: "assistant", content: "You said: Hello there", refusal: null },
        logprobs: null,
        finish_reason: "stop",
      },
    ]);
    expect(completion.usage).toMatchObject({ prompt_tokens: 4, completion_tokens: 4, total_tokens: 8 });

    // The attempt lands in ClickHouse with what ran where and the provider's usage.
    await eventually(async () => {
      const rows = await queryAnalytics<Record<string, unknown>>(
        config,
        "SELECT outcome, status, model_requested, provider, provider_model, input_tokens, output_tokens, usage_estimated, stream, key_id, first_token_at IS NOT NULL AS has_first_token FROM attempts FINAL WHERE request_id = {id:UUID}",
        { id: requestIdOf(completion.id) },
      );
      expect(rows).toEqual([
        {
          outcome: "completed",
          status: 200,
          model_requested: "mock",
          provider: "mock",
          provider_model: "mock",
          input_tokens: 4,
          output_tokens: 4,
          usage_estimated: false,
          stream: false,
          key_id: expect.stringMatching(/^[0-9a-f]{12}$/),
          has_first_token: 1,
        },
      ]);
    });
  });

  it("streams a chat completion chunk by chunk, with usage when asked", async () => {
    const stream = await client.chat.completions.create({
      model: "mock-fast",
      messages: [{ role: "user", content: "Count [mock:tokens=5]" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const deltas: string[] = [];
    let usage: OpenAI.CompletionUsage | null | undefined;
    let finish: string | null = null;
    for await (const chunk of stream) {
      expect(chunk.object).toBe("chat.completion.chunk");
      for (const choice of chunk.choices) {
        if (choice.delta.content) deltas.push(choice.delta.content);
        finish = choice.finish_reason ?? finish;
      }
      if (chunk.usage) usage = chunk.usage;
    }
    expect(deltas).toEqual(["lorem", " ipsum", " dolor", " sit", " amet"]);
    expect(finish).toBe("stop");
    expect(usage).toMatchObject({ prompt_tokens: 2, completion_tokens: 5, total_tokens: 7 });
  });

  it("honours max_tokens, stop and n", async () => {
    const limited = await client.chat.completions.create({
      model: "mock",
      max_completion_tokens: 2,
      n: 2,
      messages: [{ role: "user", content: "one two three four" }],
    });
    expect(
      limited.choices.map((choice) => [choice.index, choice.message.content, choice.finish_reason]),
    ).toEqual([
      [0, "You said:", "length"],
      [1, "You said:", "length"],
    ]);
    const stopped = await client.chat.completions.create({
      model: "mock",
      stop: ["three"],
      messages: [{ role: "user", content: "one two three four" }],
    });
    expect(stopped.choices[0]?.message.content).toBe("You said: one two ");
  });

  it("calls a tool, and takes the tool's result in the next turn", async () => {
    const first = await client.chat.completions.create({
      model: "mock",
      tools: [weatherTool],
      tool_choice: "required",
      messages: [{ role: "user", content: "Weather in Paris?" }],
    });
    const call = first.choices[0]?.message.tool_calls?.[0];
    expect(first.choices[0]?.finish_reason).toBe("tool_calls");
    expect(first.choices[0]?.message.content).toBeNull();
    expect(call?.type).toBe("function");
    expect(call?.type === "function" && call.function.name).toBe("get_weather");
    expect(call?.type === "function" && JSON.parse(call.function.arguments)).toEqual({
      city: "mock",
      unit: "celsius",
    });

    const second = await client.chat.completions.create({
      model: "mock",
      tools: [weatherTool],
      messages: [
        { role: "user", content: "Weather in Paris?" },
        { role: "assistant", content: null, tool_calls: first.choices[0]?.message.tool_calls },
        { role: "tool", tool_call_id: call?.id ?? "", content: "18 degrees and sunny" },
        { role: "user", content: "Thanks" },
      ],
    });
    expect(second.choices[0]?.message.content).toBe("You said: Thanks");
  });

  it("streams parallel tool calls whose arguments arrive in pieces", async () => {
    const stream = client.chat.completions.stream({
      model: "mock",
      tools: [weatherTool, timeTool],
      messages: [{ role: "user", content: "Weather and time [mock:tools]" }],
    });
    const argumentPieces: string[] = [];
    stream.on("chunk", (chunk) => {
      for (const call of chunk.choices[0]?.delta.tool_calls ?? []) {
        if (call.function?.arguments) argumentPieces.push(call.function.arguments);
      }
    });
    const final = await stream.finalChatCompletion();
    const calls = final.choices[0]?.message.tool_calls ?? [];
    expect(
      calls.map(
        (call) => call.type === "function" && [call.function.name, JSON.parse(call.function.arguments)],
      ),
    ).toEqual([
      ["get_weather", { city: "mock", unit: "celsius" }],
      ["get_time", { zone: "mock" }],
    ]);
    expect(argumentPieces.length).toBeGreaterThanOrEqual(4);
    expect(final.choices[0]?.finish_reason).toBe("tool_calls");
  });

  it("takes image parts and JSON response formats", async () => {
    const completion = await client.chat.completions.create({
      model: "mock",
      response_format: {
        type: "json_schema",
        json_schema: {
          name: "answer",
          schema: { type: "object", properties: { a: { type: "string" } } },
          strict: true,
        },
      },
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "What is in" },
            { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=", detail: "low" } },
            { type: "text", text: "this picture?" },
          ],
        },
      ],
    });
    expect(completion.choices[0]?.message.content).toBe("You said: What is in this picture?");
  });

  it("embeds text, in the base64 form the SDK asks for by default and as floats", async () => {
    const embedded = await client.embeddings.create({ model: "mock-embed", input: ["alpha", "beta"] });
    expect(embedded.data.map((item) => item.index)).toEqual([0, 1]);
    for (const item of embedded.data) {
      expect(item.embedding).toHaveLength(16);
      expect(Math.hypot(...item.embedding)).toBeCloseTo(1, 5);
    }
    const again = await client.embeddings.create({
      model: "mock-embed",
      input: "alpha",
      encoding_format: "float",
      dimensions: 8,
    });
    expect(again.data[0]?.embedding).toHaveLength(8);
    expect(embedded.usage).toEqual({ prompt_tokens: 2, total_tokens: 2 });
  });

  it("lists the models it serves", async () => {
    const models = [];
    for await (const model of client.models.list()) models.push(model.id);
    expect(models).toEqual(["mock"]);
  });

  it("raises the SDK's own error classes, with the provider's retry-after", async () => {
    const badKey = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "wrong-key-123", maxRetries: 0 });
    await expect(
      badKey.chat.completions.create({ model: "mock", messages: [{ role: "user", content: "x" }] }),
    ).rejects.toMatchObject({
      constructor: OpenAI.AuthenticationError,
      status: 401,
      code: "invalid_api_key",
    });
    await expect(
      client.chat.completions.create({ model: "gpt-nope", messages: [{ role: "user", content: "x" }] }),
    ).rejects.toMatchObject({
      constructor: OpenAI.NotFoundError,
      status: 404,
      code: "model_not_found",
    });
    const invalid = client.chat.completions.create({
      model: "mock",
      temperature: "hot" as unknown as number,
      messages: [{ role: "user", content: "x" }],
    });
    await expect(invalid).rejects.toMatchObject({
      constructor: OpenAI.BadRequestError,
      status: 400,
      param: "temperature",
    });
    const limited = await client.chat.completions
      .create({ model: "mock", stream: true, messages: [{ role: "user", content: "x [mock:error=429]" }] })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
    expect((limited as InstanceType<typeof OpenAI.RateLimitError>).headers.get("retry-after")).toBe("1");
  });

  it("stops the provider call when the client aborts a stream", async () => {
    const abort = new AbortController();
    const stream = await client.chat.completions.create(
      {
        model: "mock",
        stream: true,
        messages: [{ role: "user", content: "long [mock:tokens=2000] [mock:delay_ms=20]" }],
      },
      { signal: abort.signal },
    );
    let received = 0;
    let answerId = "";
    try {
      for await (const chunk of stream) {
        answerId = chunk.id;
        if (++received === 3) abort.abort();
      }
    } catch (error) {
      expect(error).toBeInstanceOf(OpenAI.APIUserAbortError);
    }
    // Without the cancel the worker would stream for 40 s; it lets go long before.
    await eventually(() => expect(gateway.worker?.inFlight).toBe(0));
    expect(received).toBe(3);
    // Recorded as cancelled, with the tokens streamed before the cancel (counted by the gateway).
    await eventually(async () => {
      const [row] = await queryAnalytics<{
        outcome: string;
        status: number;
        output_tokens: number;
        usage_estimated: boolean;
      }>(
        config,
        "SELECT outcome, status, output_tokens, usage_estimated FROM attempts FINAL WHERE request_id = {id:UUID}",
        { id: requestIdOf(answerId) },
      );
      expect(row).toMatchObject({ outcome: "cancelled", status: 499, usage_estimated: true });
      expect(row?.output_tokens).toBeGreaterThanOrEqual(3);
      expect(row?.output_tokens).toBeLessThan(2000);
    });
  });
});
