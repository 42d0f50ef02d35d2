import { setTimeout as sleep } from "node:timers/promises";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../app/gateway.ts";
import { type AnthropicEmulator, startAnthropicEmulator } from "../emulators/anthropic.ts";
import { type OpenAIEmulator, startOpenAIEmulator } from "../emulators/openai.ts";
import { eventually } from "../support/eventually.ts";
import {
  busKinds,
  queryAnalytics,
  requestIdOf,
  startTestGateway,
  testConfig,
  testKey,
} from "../support/gateway.ts";

const cooldownMs = 400;

/**
 * Routing and failover through the whole gateway, against emulated providers: two OpenAI
 * accounts (a, b), an Anthropic one, and one that is down (nothing listens at its port). Each test
 * uses its own route, so the breakers of one test never meet another's. On the Kafka bus the
 * breakers live in Redis, shared by every worker.
 */
describe.each(busKinds)("routing and failover on the %s bus", (bus) => {
  let a: OpenAIEmulator;
  let b: OpenAIEmulator;
  let claude: AnthropicEmulator;
  let gateway: RunningGateway;
  let client: OpenAI;
  let config: ReturnType<typeof testConfig>;

  beforeAll(async () => {
    [a, b, claude] = await Promise.all([
      startOpenAIEmulator({ apiKey: "key-a" }),
      startOpenAIEmulator({ apiKey: "key-b" }),
      startAnthropicEmulator({ apiKey: "key-claude" }),
    ]);
    const pair = (name: string, extra: Record<string, unknown> = {}) => ({
      name,
      strategy: "priority",
      deployments: [
        { provider: "a", model: `${name}-a` },
        { provider: "b", model: `${name}-b` },
      ],
      ...extra,
    });
    config = testConfig(bus, {
      providers: [
        { name: "a", type: "openai", options: { baseUrl: a.url, apiKey: "key-a" } },
        { name: "b", type: "openai", options: { baseUrl: b.url, apiKey: "key-b" } },
        { name: "claude", type: "anthropic", options: { baseUrl: claude.url, apiKey: "key-claude" } },
        { name: "dead", type: "openai", options: { baseUrl: "http://127.0.0.1:9/v1", apiKey: "key-dead" } },
      ],
      models: [
        {
          name: "weighted",
          strategy: "weighted",
          deployments: [
            { provider: "a", model: "weighted-a", weight: 3 },
            { provider: "b", model: "weighted-b", weight: 1 },
          ],
        },
        { name: "down-first", provider: "dead", model: "down", fallbacks: ["to-claude"] },
        { name: "to-claude", provider: "claude", model: "claude-x" },
        pair("limited"),
        pair("streamy"),
        pair("hangy", { firstTokenTimeoutMs: 300 }),
        { name: "flappy", provider: "a", model: "flappy-a" },
        {
          name: "busy",
          strategy: "priority",
          deployments: [
            { provider: "a", model: "busy-a", limits: { concurrency: 1 } },
            { provider: "b", model: "busy-b" },
          ],
        },
        {
          name: "per-minute",
          deployments: [{ provider: "a", model: "per-minute-a", limits: { requestsPerMinute: 2 } }],
        },
      ],
      routing: {
        maxAttempts: 4,
        circuitBreakers: true,
        breakerFailures: 3,
        breakerCooldownMs: cooldownMs,
        backoffMs: 10,
        maxBackoffMs: 100,
        retryBudget: 1,
      },
    });
    gateway = await startTestGateway(config);
    client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: testKey, maxRetries: 0 });
  });
  afterAll(async () => {
    await gateway.close();
    await Promise.all([a.close(), b.close(), claude.close()]);
  });

  const ask = (model: string, content = "hi") =>
    client.chat.completions.create({ model, messages: [{ role: "user", content }] });
  const callsTo = (emulator: OpenAIEmulator, model: string) =>
    emulator.requests.filter((request) => (request.body as { model?: string }).model === model).length;

  it("spreads traffic by weight", async () => {
    for (let batch = 0; batch < 20; batch++)
      await Promise.all(Array.from({ length: 20 }, () => ask("weighted")));
    // 400 requests at 3:1: 300 expected at a; the bounds are five standard deviations (8.7) wide.
    expect(callsTo(a, "weighted-a")).toBeGreaterThan(256);
    expect(callsTo(a, "weighted-a")).toBeLessThan(344);
    expect(callsTo(a, "weighted-a") + callsTo(b, "weighted-b")).toBe(400);
  });

  it("serves every request through the fallback while a provider is down, and records each path; the breaker soon stops calling it", async () => {
    const answers = [];
    for (let request = 0; request < 12; request++)
      answers.push(await ask("down-first", `question ${request}`));
    expect(answers.map((answer) => answer.choices[0]?.message.content)).toEqual(
      Array.from({ length: 12 }, (_, request) => `Echo: question ${request}`),
    );
    const ids = answers.map((answer) => requestIdOf(answer.id));
    await eventually(async () => {
      const rows = await queryAnalytics<{
        route: string;
        deployment: string;
        outcome: string;
        calls: string;
      }>(
        config,
        `SELECT route, deployment, outcome, error_code, count() AS calls FROM attempts FINAL
         WHERE request_id IN {ids:Array(UUID)} GROUP BY route, deployment, outcome, error_code ORDER BY route`,
        { ids },
      );
      // Three failures open the dead deployment's breaker; after that requests go straight to the fallback.
      expect(rows).toEqual([
        {
          route: "down-first",
          deployment: "dead/down",
          outcome: "failed",
          error_code: "provider_error",
          calls: 3,
        },
        {
          route: "to-claude",
          deployment: "claude/claude-x",
          outcome: "completed",
          error_code: "",
          calls: 12,
        },
      ]);
    });
  });

  it("honours a 429's retry-after: the next deployment answers, and nobody calls the limited one before its time", async () => {
    a.inject("[emulator:status=429] [emulator:retry-after-ms=600]");
    try {
      await ask("limited");
      await ask("limited");
      expect([callsTo(a, "limited-a"), callsTo(b, "limited-b")]).toEqual([1, 2]);
    } finally {
      a.inject("");
    }
    await sleep(650);
    await ask("limited");
    expect([callsTo(a, "limited-a"), callsTo(b, "limited-b")]).toEqual([2, 2]);
  });

  it("fails over unseen when a stream breaks before its first token; after it, the client gets an error and no second answer", async () => {
    const stream = async () => {
      let text = "";
      const chunks = await client.chat.completions.create({
        model: "streamy",
        stream: true,
        messages: [{ role: "user", content: "hello there friend" }],
      });
      for await (const chunk of chunks) text += chunk.choices[0]?.delta.content ?? "";
      return text;
    };
    a.inject("[emulator:disconnect=0]");
    try {
      await expect(stream()).resolves.toBe("Echo: hello there friend");
      expect(callsTo(b, "streamy-b")).toBe(1);
      a.inject("[emulator:midstream]");
      await expect(stream()).rejects.toThrow(/failed|error/i);
      expect(callsTo(b, "streamy-b")).toBe(1);
    } finally {
      a.inject("");
    }
  });

  it("gives up a deployment that sends no first token within the route's timeout, and the next one answers", async () => {
    a.inject("[emulator:latency=5000]");
    try {
      const answer = await ask("hangy");
      expect(callsTo(b, "hangy-b")).toBe(1);
      await eventually(async () => {
        const rows = await queryAnalytics<{ deployment: string; outcome: string; error_code: string }>(
          config,
          "SELECT deployment, outcome, error_code FROM attempts FINAL WHERE request_id = {id:UUID} ORDER BY attempt",
          { id: requestIdOf(answer.id) },
        );
        expect(rows).toEqual([
          { deployment: "a/hangy-a", outcome: "failed", error_code: "timeout" },
          { deployment: "b/hangy-b", outcome: "completed", error_code: "" },
        ]);
      });
    } finally {
      a.inject("");
    }
  });

  it("opens a flapping deployment's breaker, lets one probe through after the cooldown, and closes it when the probe succeeds", async () => {
    a.inject("[emulator:status=500]");
    try {
      // Retried with backoff until three failures open the breaker; the caller gets the provider's failure.
      await expect(ask("flappy")).rejects.toMatchObject({ status: 502 });
      expect(callsTo(a, "flappy-a")).toBe(3);
      // Open: refused at once, without calling the provider, saying when to come back.
      const refused = await ask("flappy").catch((error: unknown) => error);
      expect(refused).toMatchObject({ status: 503 });
      expect((refused as InstanceType<typeof OpenAI.APIError>).message).toMatch(/circuit breakers are open/);
      expect(
        Number((refused as InstanceType<typeof OpenAI.APIError>).headers?.get("retry-after")),
      ).toBeGreaterThan(0);
      expect(callsTo(a, "flappy-a")).toBe(3);
    } finally {
      a.inject("");
    }
    await sleep(cooldownMs + 50);
    await expect(ask("flappy")).resolves.toMatchObject({ choices: [{ message: { content: "Echo: hi" } }] });
    await expect(ask("flappy")).resolves.toMatchObject({ choices: [{ message: { content: "Echo: hi" } }] });
    expect(callsTo(a, "flappy-a")).toBe(5);
  });

  it("keeps a deployment within its quotas across workers: over one, the next deployment serves; with none left, a 429 saying when", async () => {
    a.inject("[emulator:latency=300]");
    try {
      await Promise.all([ask("busy"), ask("busy"), ask("busy")]);
    } finally {
      a.inject("");
    }
    expect([callsTo(a, "busy-a"), callsTo(b, "busy-b")]).toEqual([1, 2]);

    await ask("per-minute");
    await ask("per-minute");
    const refused = await ask("per-minute").catch((error: unknown) => error);
    expect(refused).toMatchObject({ status: 429 });
    expect(
      Number((refused as InstanceType<typeof OpenAI.APIError>).headers?.get("retry-after")),
    ).toBeGreaterThan(0);
    expect(callsTo(a, "per-minute-a")).toBe(2);
  });
});
