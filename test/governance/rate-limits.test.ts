import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../app/gateway.ts";
import type { GatewayConfig } from "../../config/schema.ts";
import { type OpenAIEmulator, startOpenAIEmulator } from "../emulators/openai.ts";
import { adminApi } from "../support/admin.ts";
import { eventually } from "../support/eventually.ts";
import { busKinds, startTestGateway, testConfig } from "../support/gateway.ts";

interface Answer {
  status: number;
  headers: Headers;
  body: { error?: { code: string | null; type: string; param: string | null; message: string } };
}

async function post(url: string, key: string, body: Record<string, unknown>): Promise<Answer> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "chat", messages: [{ role: "user", content: "hi" }], ...body }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: body.stream ? {} : JSON.parse(text) };
}

describe.each(busKinds)("rate and consumption limits on the %s bus", (bus) => {
  let emulator: OpenAIEmulator;
  let config: GatewayConfig;
  let gateway: RunningGateway;
  /** A second ingress on the same bus and Redis (Kafka only): limits hold across processes. */
  let second: RunningGateway | undefined;

  const adminCall = adminApi(() => gateway.url);
  const admin = async (...call: Parameters<typeof adminCall>) => (await adminCall(...call)).body;
  const newKey = async (settings: Record<string, unknown>) => {
    const team = `t-${randomUUID().slice(0, 8)}`;
    await admin("POST", "/admin/teams", { id: team });
    return admin("POST", "/admin/keys", { team, ...settings });
  };

  beforeAll(async () => {
    emulator = await startOpenAIEmulator({ apiKey: "key" });
    const namespace = randomUUID().slice(0, 8);
    const overrides = {
      providers: [{ name: "p", type: "openai", options: { baseUrl: emulator.url, apiKey: "key" } }],
      pricing: { prices: { p: { "chat-model": { input: 1, output: 1 } } } },
      models: [{ name: "chat", provider: "p", model: "chat-model" }],
      governance: { maxN: 4 },
    };
    config = testConfig(bus, overrides, namespace);
    gateway = await startTestGateway(config);
    if (bus === "kafka") second = await startTestGateway(testConfig(bus, overrides, namespace), "ingress");
  });
  afterAll(async () => {
    await second?.close();
    await gateway?.close();
    await emulator?.close();
  });

  it("admits exactly a key's requests per minute, across every ingress, with OpenAI's headers", async () => {
    const { key } = await newKey({ rateLimits: { requestsPerMinute: 5 } });
    const urls = [gateway.url, second?.url ?? gateway.url];
    // The second ingress learns of the key from the key log (GET /v1/models is not rate limited).
    await eventually(async () => {
      for (const url of urls)
        expect(
          (await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${key}` } })).status,
        ).toBe(200);
    });
    const answers = await Promise.all(
      Array.from({ length: 16 }, (_, index) => post(urls[index % 2] as string, key, {})),
    );
    const admitted = answers.filter((answer) => answer.status === 200);
    expect(admitted).toHaveLength(5);
    for (const answer of admitted) {
      expect(answer.headers.get("x-ratelimit-limit-requests")).toBe("5");
      expect(Number(answer.headers.get("x-ratelimit-remaining-requests"))).toBeLessThan(5);
      expect(answer.headers.get("x-ratelimit-reset-requests")).toMatch(/^\d+(ms|s|m\d+s)$/);
    }
    const refused = answers.filter((answer) => answer.status === 429);
    expect(refused).toHaveLength(11);
    for (const answer of refused) {
      expect(answer.body.error).toMatchObject({ type: "requests", code: "rate_limit_exceeded" });
      expect(Number(answer.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(answer.headers.get("x-ratelimit-remaining-requests")).toBe("0");
    }
  });

  it("refuses once a key's tokens per minute are used", async () => {
    // 520 words are over 500 tokens by OpenAI's tokenizer (the deployment is OpenAI's): one fits in
    // 1,000 a minute, two do not.
    const { key } = await newKey({ rateLimits: { tokensPerMinute: 1000 } });
    const long = { messages: [{ role: "user", content: "word ".repeat(520) }] };
    const first = await post(gateway.url, key, long);
    expect(first.status).toBe(200);
    expect(first.headers.get("x-ratelimit-limit-tokens")).toBe("1000");
    expect(Number(first.headers.get("x-ratelimit-remaining-tokens"))).toBeLessThan(500);
    const second = await post(gateway.url, key, long);
    expect(second.status).toBe(429);
    expect(second.body.error?.message).toContain("tokens per minute");
    expect(Number(second.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  });

  it("bounds max_tokens and n, naming the parameter", async () => {
    const { key } = await newKey({ limits: { maxTokens: 64 } });
    const tooMany = await post(gateway.url, key, { max_tokens: 65 });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error).toMatchObject({ param: "max_tokens", type: "invalid_request_error" });
    expect((await post(gateway.url, key, { max_tokens: 64 })).status).toBe(200);
    const choices = await post(gateway.url, key, { n: 5 });
    expect(choices.status).toBe(400);
    expect(choices.body.error).toMatchObject({ param: "n" });
    // No max_tokens named: the key's bound is sent to the provider.
    const before = emulator.requests.length;
    expect((await post(gateway.url, key, {})).status).toBe(200);
    const sent = emulator.requests[before]?.body as { max_tokens?: number; max_completion_tokens?: number };
    expect(sent.max_completion_tokens ?? sent.max_tokens).toBe(64);
  });

  it("holds a key to its concurrent streams", async () => {
    const { key } = await newKey({ limits: { maxConcurrentStreams: 2 } });
    const slow = { stream: true, messages: [{ role: "user", content: "[emulator:latency=1500] slow" }] };
    const answers = await Promise.all(Array.from({ length: 5 }, () => post(gateway.url, key, slow)));
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(2);
    expect(answers.filter((answer) => answer.status === 429)).toHaveLength(3);
    // Their slots are given back when they end.
    expect((await post(gateway.url, key, slow)).status).toBe(200);
  });

  it("refuses a body larger than the gateway accepts, in OpenAI's shape", async () => {
    const { key } = await newKey({});
    const huge = "x".repeat(config.server.bodyLimitBytes + 1);
    const answer = await post(gateway.url, key, { messages: [{ role: "user", content: huge }] });
    expect(answer.status).toBe(413);
    expect(answer.body.error?.code).toBe("request_too_large");
  });
});
