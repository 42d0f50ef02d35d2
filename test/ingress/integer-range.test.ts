import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../app/gateway.ts";
import { type OpenAIEmulator, startOpenAIEmulator } from "../emulators/openai.ts";
import { startTestGateway, testConfig, testKey } from "../support/gateway.ts";

const user = [{ role: "user", content: "hi" }];

/**
 * Integers a request carries as Avro ints (token counts, dimensions) or longs (seed) must fit
 * them: a larger one is the caller's mistake, a 400 naming the field. The fuzz test found them a
 * 503 "could not queue the request; retry shortly" (the envelope failed to encode), which no retry mends.
 */
describe("integers beyond what the gateway carries", () => {
  let emulator: OpenAIEmulator;
  let gateway: RunningGateway;

  beforeAll(async () => {
    emulator = await startOpenAIEmulator({});
    gateway = await startTestGateway(
      testConfig("in-process", {
        providers: [{ name: "p", type: "openai", options: { baseUrl: emulator.url, apiKey: "k" } }],
        models: [{ name: "m", provider: "p", model: "m" }],
      }),
    );
  });
  afterAll(async () => {
    await gateway?.close();
    await emulator?.close();
  });

  const cases: Array<[string, string, Record<string, unknown>]> = [
    ["max_tokens", "/v1/chat/completions", { model: "m", messages: user, max_tokens: 2 ** 31 }],
    [
      "max_completion_tokens",
      "/v1/chat/completions",
      { model: "m", messages: user, max_completion_tokens: 2 ** 40 },
    ],
    ["seed", "/v1/chat/completions", { model: "m", messages: user, seed: 2 ** 53 }],
    ["seed", "/v1/chat/completions", { model: "m", messages: user, seed: -1e300 }],
    ["max_tokens", "/v1/messages", { model: "m", messages: user, max_tokens: 2 ** 31 }],
    [
      "thinking",
      "/v1/messages",
      { model: "m", messages: user, max_tokens: 2048, thinking: { type: "enabled", budget_tokens: 2 ** 31 } },
    ],
    ["max_output_tokens", "/v1/responses", { model: "m", input: "hi", max_output_tokens: 2 ** 31 }],
    ["dimensions", "/v1/embeddings", { model: "m", input: "hi", dimensions: 2 ** 31 }],
  ];

  it.each(cases)("refuses %s out of range on %s with a 400 naming it", async (field, path, body) => {
    const before = emulator.requests.length;
    const response = await fetch(`${gateway.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${testKey}` },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(400);
    const answer = (await response.json()) as { error: { message: string; param?: string } };
    expect(answer.error.message.startsWith(`${field}: `)).toBe(true);
    expect(emulator.requests.length).toBe(before);
  });

  it("serves the largest seed and token counts it can carry", async () => {
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${testKey}` },
      body: JSON.stringify({ model: "m", messages: user, max_tokens: 2 ** 31 - 1, seed: -(2 ** 53 - 2) }),
    });
    expect(response.status).toBe(200);
  });
});
