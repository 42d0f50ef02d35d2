import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../app/gateway.ts";
import { type OpenAIEmulator, startOpenAIEmulator } from "../emulators/openai.ts";
import { busKinds, startTestGateway, testConfig, testKey } from "../support/gateway.ts";

const failing = "hi [emulator:status=500]";

/**
 * A route's own `failover` settings over the global `routing` ones, through the whole gateway. On
 * the Kafka bus the breakers are in Redis, in a single process in memory: both judge a failure
 * with the thresholds of the route whose request failed. Each test has routes of its own, so
 * their breakers never meet.
 */
describe.each(busKinds)("per-route failover settings on the %s bus", (bus) => {
  let a: OpenAIEmulator;
  let b: OpenAIEmulator;
  let gateway: RunningGateway;
  let client: OpenAI;

  beforeAll(async () => {
    [a, b] = await Promise.all([
      startOpenAIEmulator({ apiKey: "key-a" }),
      startOpenAIEmulator({ apiKey: "key-b" }),
    ]);
    const pair = (name: string, failover?: Record<string, unknown>) => ({
      name,
      strategy: "priority",
      deployments: [
        { provider: "a", model: `${name}-a` },
        { provider: "b", model: `${name}-b` },
      ],
      ...(failover && { failover }),
    });
    const one = (name: string, failover?: Record<string, unknown>) => ({
      name,
      provider: "a",
      model: `${name}-a`,
      ...(failover && { failover }),
    });
    gateway = await startTestGateway(
      testConfig(bus, {
        providers: [
          { name: "a", type: "openai", options: { baseUrl: a.url, apiKey: "key-a" } },
          { name: "b", type: "openai", options: { baseUrl: b.url, apiKey: "key-b" } },
        ],
        models: [
          one("once", { maxAttempts: 1 }),
          one("thrice"),
          one("touchy", { breakerFailures: 1, breakerCooldownMs: 60_000 }),
          one("tolerant"),
          one("patient", { breakerFailures: 1, breakerCooldownMs: 300, maxBackoffMs: 5_000 }),
          one("hasty", { breakerFailures: 1, breakerCooldownMs: 300 }),
          pair("frugal", { retryBudget: 0, minRetriesPerSecond: 0 }),
          pair("spender"),
        ],
        routing: {
          maxAttempts: 3,
          circuitBreakers: true,
          breakerFailures: 5,
          breakerCooldownMs: 60_000,
          backoffMs: 10,
          maxBackoffMs: 50,
          retryBudget: 1,
        },
      }),
    );
    client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: testKey, maxRetries: 0 });
  });
  afterAll(async () => {
    await gateway.close();
    await Promise.all([a.close(), b.close()]);
  });

  const ask = (model: string, content = "hi") =>
    client.chat.completions.create({ model, messages: [{ role: "user", content }] });
  const failureOf = (model: string, content = failing) =>
    ask(model, content).then(
      () => {
        throw new Error(`${model} answered`);
      },
      (error: unknown) => error as InstanceType<typeof OpenAI.APIError>,
    );
  const callsTo = (emulator: OpenAIEmulator, model: string) =>
    emulator.requests.filter((request) => (request.body as { model?: string }).model === model).length;

  it("calls a route with maxAttempts 1 once, while a route on the global 3 tries three times", async () => {
    expect((await failureOf("once")).status).toBe(502);
    expect((await failureOf("thrice")).status).toBe(502);
    expect([callsTo(a, "once-a"), callsTo(a, "thrice-a")]).toEqual([1, 3]);
  });

  it("opens a deployment's breaker after one failure for a route with breakerFailures 1; the global threshold needs more", async () => {
    expect((await failureOf("touchy")).status).toBe(502);
    expect(callsTo(a, "touchy-a")).toBe(1);
    const refused = await failureOf("touchy", "hi");
    expect(refused.status).toBe(503);
    expect(refused.message).toMatch(/circuit breakers are open/);
    expect(callsTo(a, "touchy-a")).toBe(1);

    expect((await failureOf("tolerant")).status).toBe(502);
    expect(callsTo(a, "tolerant-a")).toBe(3);
    await expect(ask("tolerant")).resolves.toMatchObject({ choices: [{ message: { content: "Echo: hi" } }] });
    expect(callsTo(a, "tolerant-a")).toBe(4);
  });

  it("waits for an open breaker to half-open only on a route whose maxBackoffMs covers the cooldown", async () => {
    // Both breakers open at the first failure, for the same cooldown. The patient route waits it
    // out and probes (failing again, up to its three attempts); the hasty one, on the global
    // maxBackoffMs, gives up at once.
    expect((await failureOf("patient")).status).toBe(502);
    expect((await failureOf("hasty")).status).toBe(502);
    expect([callsTo(a, "patient-a"), callsTo(a, "hasty-a")]).toEqual([3, 1]);
    // Open again after its failed probe: the patient route's next request waits, and its probe answers.
    await expect(ask("patient")).resolves.toMatchObject({ choices: [{ message: { content: "Echo: hi" } }] });
    expect(callsTo(a, "patient-a")).toBe(4);
  });

  it("spends a retry budget of the route's own when it sets one: none left means no failover", async () => {
    expect((await failureOf("frugal")).status).toBe(502);
    expect([callsTo(a, "frugal-a"), callsTo(b, "frugal-b")]).toEqual([1, 0]);
    expect((await failureOf("spender")).status).toBe(502);
    expect(callsTo(a, "spender-a") + callsTo(b, "spender-b")).toBe(3);
    expect(callsTo(b, "spender-b")).toBeGreaterThan(0);
  });
});
