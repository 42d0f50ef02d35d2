import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../app/gateway.ts";
import { busKinds, startTestGateway, testConfig, testKey } from "../support/gateway.ts";

const weather = {
  type: "function" as const,
  name: "get_weather",
  description: "Weather in a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  strict: true,
};
const clock = {
  type: "function" as const,
  name: "get_time",
  parameters: { type: "object", properties: { zone: { type: "string" } } },
  strict: false,
};

describe.each(busKinds)("the OpenAI Responses API on the %s bus", (bus) => {
  let gateway: RunningGateway;
  let client: OpenAI;
  beforeAll(async () => {
    gateway = await startTestGateway(testConfig(bus));
    client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: testKey, maxRetries: 0 });
  });
  afterAll(() => gateway.close());

  it("answers a response with instructions", async () => {
    const response = await client.responses.create({
      model: "mock",
      instructions: "Be brief.",
      input: "Hello there",
    });
    expect(response.object).toBe("response");
    expect(response.id).toMatch(/^resp_/);
    expect(response.status).toBe("completed");
    expect(response.output_text).toBe("You said: Hello there");
    expect(response.output).toEqual([
      {
        type: "message",
        id: expect.stringMatching(/^msg_/),
        status: "completed",
        role: "assistant",
        content: [{ type: "output_text", text: "You said: Hello there", annotations: [] }],
      },
    ]);
    expect(response.usage).toMatchObject({ input_tokens: 4, output_tokens: 4, total_tokens: 8 });
  });

  it("streams the typed events, in order, with sequence numbers", async () => {
    const stream = client.responses.stream({ model: "mock", input: "Count [mock:tokens=3]" });
    const events: Array<{ type: string; sequence_number: number }> = [];
    stream.on("event", (event) => events.push(event));
    const final = await stream.finalResponse();
    expect(events.map((event) => event.type)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, index) => index));
    expect(final.output_text).toBe("lorem ipsum dolor");
    expect(final.usage?.output_tokens).toBe(3);
  });

  it("calls tools, and takes the calls and their outputs back as input items", async () => {
    const first = await client.responses.create({
      model: "mock",
      tools: [weather],
      tool_choice: "required",
      input: "Weather in Oslo?",
    });
    const call = first.output.find((item) => item.type === "function_call");
    expect(call).toMatchObject({
      type: "function_call",
      name: "get_weather",
      arguments: '{"city":"mock"}',
      status: "completed",
    });
    const second = await client.responses.create({
      model: "mock",
      tools: [weather],
      input: [
        { role: "user", content: "Weather in Oslo?" },
        ...(first.output as OpenAI.Responses.ResponseInputItem[]),
        {
          type: "function_call_output",
          call_id: call?.type === "function_call" ? call.call_id : "",
          output: "-2 degrees",
        },
        { role: "user", content: [{ type: "input_text", text: "Warm enough?" }] },
      ],
    });
    expect(second.output_text).toBe("You said: Warm enough?");
  });

  it("streams parallel function calls with their arguments in pieces", async () => {
    const stream = client.responses.stream({
      model: "mock",
      tools: [weather, clock],
      input: "Both [mock:tools]",
    });
    const pieces: string[] = [];
    stream.on("response.function_call_arguments.delta", (event) => pieces.push(event.delta));
    const final = await stream.finalResponse();
    const calls = final.output.filter((item) => item.type === "function_call");
    expect(
      calls.map((item) => item.type === "function_call" && [item.name, JSON.parse(item.arguments)]),
    ).toEqual([
      ["get_weather", { city: "mock" }],
      ["get_time", { zone: "mock" }],
    ]);
    expect(pieces.length).toBeGreaterThanOrEqual(4);
  });

  it("reports an answer cut by max_output_tokens as incomplete", async () => {
    const response = await client.responses.create({
      model: "mock",
      max_output_tokens: 2,
      input: "one two three",
    });
    expect(response.status).toBe("incomplete");
    expect(response.incomplete_details).toEqual({ reason: "max_output_tokens" });
  });

  it("refuses what it does not support with a clear 400, and raises provider errors as the SDK's classes", async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ conversation: "conv_123" }, /conversation: this gateway stores no conversations/],
      [{ tools: [{ type: "web_search" }] }, /tools\.0\.type: tools of type web_search are not supported/],
      [{ prompt: { id: "pmpt_1" } }, /prompt: this option of the Responses API is not supported/],
      [
        { input: [{ type: "item_reference", id: "x" }] },
        /input\.0\.type: input items of type item_reference/,
      ],
    ];
    for (const [options, message] of cases) {
      const error = await client.responses
        .create({ model: "mock", input: "x", ...options } as never)
        .catch((failure: unknown) => failure);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect((error as Error).message).toMatch(message);
    }
    const limited = await client.responses
      .create({ model: "mock", stream: true, input: "x [mock:error=429]" })
      .catch((failure: unknown) => failure);
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
  });
});
