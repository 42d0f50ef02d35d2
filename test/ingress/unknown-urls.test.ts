import { pino } from "pino";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildIngress, type Ingress } from "../../ingress/app.ts";

/**
 * A URL no API route answers still answers in an API's error shape — Anthropic's under
 * /v1/messages/, OpenAI's elsewhere — also when its body cannot be read (fastify's own
 * `{"statusCode":400,…}` shape before).
 */
describe("errors at unknown URLs", () => {
  let ingress: Ingress;
  beforeAll(async () => {
    ingress = await buildIngress({
      config: { host: "127.0.0.1", port: 0, bodyLimitBytes: 4096, bodyDepthLimit: 16, shutdownGraceMs: 0 },
      log: pino({ level: "silent" }),
      metrics: new Registry(),
      checks: [],
    });
  });
  afterAll(() => ingress.app.close());

  const post = (url: string, payload: string) =>
    ingress.app.inject({ method: "POST", url, headers: { "content-type": "application/json" }, payload });
  const deep = `{"x":${"[".repeat(20)}${"]".repeat(20)}}`;

  it.each([
    ["malformed JSON", "{", /^the body is not valid JSON/],
    ["JSON too deep", deep, /^x\.0\.0\.0: arrays and objects nest more than 16 levels deep/],
  ])("answers %s in OpenAI's shape", async (_name, payload, message) => {
    const response = await post("/v1/completions", payload);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      error: { message: expect.stringMatching(message), type: "invalid_request_error", code: null },
    });
  });

  it("answers under /v1/messages/ in Anthropic's shape", async () => {
    const response = await post("/v1/messages/count_tokens", "{");
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      type: "error",
      error: { type: "invalid_request_error", message: expect.stringMatching(/^the body is not valid JSON/) },
    });
    expect((await post("/v1/messages/count_tokens", "{}")).json()).toMatchObject({
      type: "error",
      error: { type: "not_found_error" },
    });
  });
});
