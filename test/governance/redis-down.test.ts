import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { RunningGateway } from "../../app/gateway.ts";
import { type OpenAIEmulator, startOpenAIEmulator } from "../emulators/openai.ts";
import { adminApi } from "../support/admin.ts";
import { eventually } from "../support/eventually.ts";
import { startTestGateway, testConfig } from "../support/gateway.ts";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.ts";

/**
 * Redis cut off for real (a TCP proxy drops it): budgets fail closed — no call a budget cannot
 * count — while rate limits go on per process, and calls without either go on as before.
 */
describe("governance with Redis down", () => {
  let emulator: OpenAIEmulator;
  let proxy: TcpProxy;
  let gateway: RunningGateway;
  let budgeted = "";
  let limited = "";
  let plain = "";
  const redisUrl = inject("services").redis.url;
  const prefix = `test-${randomUUID().slice(0, 8)}:`;

  const adminCall = adminApi(() => gateway.url);
  const admin = async (...call: Parameters<typeof adminCall>) => (await adminCall(...call)).body;
  const chat = (key: string) =>
    new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key, maxRetries: 0 }).chat.completions.create({
      model: "chat",
      max_tokens: 10,
      messages: [{ role: "user", content: "hello" }],
    });

  beforeAll(async () => {
    emulator = await startOpenAIEmulator({ apiKey: "key" });
    proxy = await startTcpProxy(new URL(redisUrl));
    gateway = await startTestGateway(
      testConfig("in-process", {
        providers: [{ name: "p", type: "openai", options: { baseUrl: emulator.url, apiKey: "key" } }],
        pricing: { prices: { p: { "chat-model": { input: 1, output: 1 } } } },
        models: [{ name: "chat", provider: "p", model: "chat-model" }],
        // The bus stays in process; Redis holds the counters (and the cache and batches).
        redis: { url: proxy.url, keyPrefix: prefix },
      }),
    );
    await admin("POST", "/admin/teams", { id: "down" });
    budgeted = (await admin("POST", "/admin/keys", { team: "down", budget: { dailyUsd: 10 } })).key;
    limited = (await admin("POST", "/admin/keys", { team: "down", rateLimits: { requestsPerMinute: 3 } }))
      .key;
    plain = (await admin("POST", "/admin/keys", { team: "down" })).key;
    await chat(budgeted);
  });
  afterAll(async () => {
    await gateway?.close();
    await proxy?.close();
    await emulator?.close();
  });

  it("gives every counter it keeps in Redis a TTL", async () => {
    const { key } = await admin("POST", "/admin/keys", {
      team: "down",
      rateLimits: { requestsPerMinute: 100, tokensPerMinute: 100_000 },
      budget: { dailyUsd: 10, monthlyUsd: 10, totalUsd: 10 },
      limits: { maxConcurrentStreams: 5 },
    });
    await chat(key);
    const stream = await new OpenAI({
      baseURL: `${gateway.url}/v1`,
      apiKey: key,
      maxRetries: 0,
    }).chat.completions.create({
      model: "chat",
      stream: true,
      messages: [{ role: "user", content: "[emulator:delay=300] a slow stream" }],
    });
    const redis = new Redis(redisUrl);
    try {
      const keys = (await redis.keys(`${prefix}*`)).filter((name) => /:(budget|rate|streams):/.test(name));
      expect(new Set(keys.map((name) => name.slice(prefix.length).split(":")[0]))).toEqual(
        new Set(["budget", "rate", "streams"]),
      );
      const ttls = await Promise.all(keys.map(async (name) => [name, await redis.pttl(name)] as const));
      expect(ttls.filter(([, ttl]) => ttl <= 0)).toEqual([]);
    } finally {
      redis.disconnect();
    }
    for await (const _chunk of stream);
  });

  it("refuses budgeted calls, limits per process, and serves the rest; all as before once Redis is back", async () => {
    proxy.cut();
    const before = emulator.requests.length;
    await expect(chat(budgeted)).rejects.toMatchObject({
      status: 503,
      message: expect.stringContaining("budgets"),
    });
    expect(emulator.requests.length).toBe(before);

    const limitedAnswers = await Promise.allSettled(Array.from({ length: 5 }, () => chat(limited)));
    expect(limitedAnswers.filter((answer) => answer.status === "fulfilled")).toHaveLength(3);
    expect(
      limitedAnswers
        .filter((answer) => answer.status === "rejected")
        .map((answer) => (answer as PromiseRejectedResult).reason.status),
    ).toEqual([429, 429]);
    await chat(plain);

    proxy.restore();
    await eventually(() => expect(chat(budgeted)).resolves.toBeTruthy(), 10_000);
  });
});
