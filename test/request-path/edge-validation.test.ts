import { logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { RunningGateway } from "../../app/gateway.ts";
import { newKafka } from "../../runtime/kafkajs.ts";
import { priorities } from "../../schemas/request-envelope.ts";
import { startTestGateway, testConfig, testKey } from "../support/gateway.ts";

/**
 * Bad requests are refused at the edge, in the caller's error shape, and nothing reaches Kafka:
 * the topics' end offsets are the same before and after.
 */
describe("refusing bad requests at the edge", () => {
  const namespace = `edge${Date.now()}`;
  let gateway: RunningGateway;
  const kafka = newKafka({ brokers: inject("services").kafka.brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();

  beforeAll(async () => {
    gateway = await startTestGateway(testConfig("kafka", { server: { bodyLimitBytes: 4096 } }, namespace));
    await admin.connect();
  });
  afterAll(async () => {
    await admin.disconnect();
    await gateway.close();
  });

  async function endOffsets(): Promise<number> {
    let total = 0;
    for (const priority of priorities) {
      const offsets = await admin.fetchTopicOffsets(`test-${namespace}.requests.${priority}`);
      total += offsets.reduce((sum, { high }) => sum + Number(high), 0);
    }
    return total;
  }

  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${gateway.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${testKey}`, ...headers },
      body,
    });

  const cases: Array<[string, string, string, Record<string, string>, number, unknown]> = [
    [
      "malformed JSON",
      "/v1/chat/completions",
      '{"model": "mock", "messages": [',
      {},
      400,
      { error: { type: "invalid_request_error" } },
    ],
    [
      "a wrong type",
      "/v1/chat/completions",
      '{"model": 5, "messages": []}',
      {},
      400,
      { error: { param: "model" } },
    ],
    [
      "no messages",
      "/v1/chat/completions",
      '{"model": "mock", "messages": []}',
      {},
      400,
      { error: { param: "messages" } },
    ],
    [
      "an unknown role",
      "/v1/chat/completions",
      '{"model":"mock","messages":[{"role":"robot","content":"x"}]}',
      {},
      400,
      { error: { param: "messages.0" } },
    ],
    [
      "an unsupported part",
      "/v1/chat/completions",
      '{"model":"mock","messages":[{"role":"user","content":[{"type":"input_audio"}]}]}',
      {},
      400,
      { error: { param: "messages.0.content.0.type" } },
    ],
    [
      "legacy functions",
      "/v1/chat/completions",
      '{"model":"mock","messages":[{"role":"user","content":"x"}],"functions":[]}',
      {},
      400,
      { error: { param: "functions" } },
    ],
    [
      "an unknown model",
      "/v1/chat/completions",
      '{"model":"gpt-x","messages":[{"role":"user","content":"x"}]}',
      {},
      404,
      { error: { code: "model_not_found" } },
    ],
    [
      "a body over the limit",
      "/v1/chat/completions",
      JSON.stringify({ model: "mock", messages: [{ role: "user", content: "x".repeat(5000) }] }),
      {},
      413,
      { error: { code: "request_too_large" } },
    ],
    [
      "no key",
      "/v1/chat/completions",
      '{"model":"mock","messages":[{"role":"user","content":"x"}]}',
      { authorization: "" },
      401,
      { error: { code: "invalid_api_key" } },
    ],
    [
      "a wrong key",
      "/v1/messages",
      '{"model":"mock","max_tokens":5,"messages":[{"role":"user","content":"x"}]}',
      { authorization: "", "x-api-key": "nope-nope-nope" },
      401,
      { type: "error", error: { type: "authentication_error" } },
    ],
    [
      "a bad priority",
      "/v1/chat/completions",
      '{"model":"mock","messages":[{"role":"user","content":"x"}]}',
      { "x-gateway-priority": "urgent" },
      400,
      { error: { param: "x-gateway-priority" } },
    ],
    [
      "Anthropic without max_tokens",
      "/v1/messages",
      '{"model":"mock","messages":[{"role":"user","content":"x"}]}',
      {},
      400,
      {
        type: "error",
        error: { type: "invalid_request_error", message: "max_tokens: Expected required property" },
      },
    ],
    [
      "an unknown Anthropic block",
      "/v1/messages",
      '{"model":"mock","max_tokens":5,"messages":[{"role":"user","content":[{"type":"document"}]}]}',
      {},
      400,
      { type: "error", error: { type: "invalid_request_error" } },
    ],
    [
      "a non-JSON body",
      "/v1/chat/completions",
      "model=mock",
      { "content-type": "text/plain" },
      415,
      { error: { type: "invalid_request_error" } },
    ],
  ];

  it.each(cases)(
    "answers %s with a clear error and publishes nothing",
    async (_name, path, body, headers, status, shape) => {
      const before = await endOffsets();
      const response = await post(path, body, headers);
      expect(response.status).toBe(status);
      expect(await response.json()).toMatchObject(shape as Record<string, unknown>);
      expect(await endOffsets()).toBe(before);
    },
  );

  it("answers unknown URLs with a 404 in OpenAI's shape", async () => {
    const response = await post("/v1/completions/legacy", "{}");
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({
      error: { message: "unknown request URL: POST /v1/completions/legacy" },
    });
  });

  it("publishes a valid request exactly once", async () => {
    const before = await endOffsets();
    const response = await post(
      "/v1/chat/completions",
      '{"model":"mock","messages":[{"role":"user","content":"x"}]}',
    );
    expect(response.status).toBe(200);
    expect(await endOffsets()).toBe(before + 1);
  });
});
