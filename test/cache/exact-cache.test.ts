import Anthropic from "@anthropic-ai/sdk";
import { Redis } from "ioredis";
import OpenAI from "openai";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../app/gateway.ts";
import { AnswerCache } from "../../calls/cache/answer-cache.ts";
import { createRedisSemanticIndex } from "../../calls/cache/redis-semantic-index.ts";
import { createRedisAnswerStore } from "../../calls/cache/redis-store.ts";
import { usdOfNano } from "../../config/pricing/cost.ts";
import { hashKey } from "../../governance/keys/keyring.ts";
import { replyEventCodec } from "../../schemas/index.ts";
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

const otherTenant = "batch-key-0123456789";
const adminKey = "admin-key-0123456789";

/** The exact answer cache at the ingress: in Redis on the Kafka bus, in memory on the in-process one. */
describe.each(busKinds)("the exact answer cache on the %s bus", (bus) => {
  let emulator: OpenAIEmulator;
  let gateway: RunningGateway;
  let config: ReturnType<typeof testConfig>;
  let openai: OpenAI;
  let anthropic: Anthropic;

  beforeAll(async () => {
    emulator = await startOpenAIEmulator({ apiKey: "key" });
    config = testConfig(bus, {
      auth: {
        keys: [
          testKey,
          { key: otherTenant, name: "nightly", priority: "batch" },
          { key: adminKey, name: "ops", admin: true },
        ],
      },
      providers: [{ name: "p", type: "openai", options: { baseUrl: emulator.url, apiKey: "key" } }],
      // Priced by provider account name, over the price file.
      pricing: { prices: { p: { "cached-model": { input: 2.5, cachedInput: 1.25, output: 10 } } } },
      models: [
        { name: "cached", provider: "p", model: "cached-model", cache: { ttlSeconds: 60 } },
        { name: "uncached", provider: "p", model: "uncached-model" },
        { name: "embed", provider: "p", model: "embedding-model" },
        {
          name: "semantic",
          provider: "p",
          model: "semantic-model",
          cache: { ttlSeconds: 60, semantic: { embeddingModel: "embed", threshold: 0.8 } },
        },
      ],
    });
    gateway = await startTestGateway(config);
    openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: testKey, maxRetries: 0 });
    anthropic = new Anthropic({ baseURL: gateway.url, apiKey: testKey, maxRetries: 0 });
  });
  afterAll(async () => {
    await gateway.close();
    await emulator.close();
  });

  const calls = () => emulator.requests.length;
  const post = (body: string, headers: Record<string, string> = {}, key = testKey) =>
    fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}`, ...headers },
      body,
    });

  it("answers a repeated request from the cache — field order and whitespace aside — and never across tenants", async () => {
    const before = calls();
    const first = await post(
      '{"model":"cached","temperature":0,"messages":[{"role":"user","content":"tenant test"}]}',
    );
    expect(first.headers.get("x-gateway-cache")).toBe("miss");
    const firstBody = (await first.json()) as OpenAI.ChatCompletion;
    const again = await post(
      '{ "messages": [ { "content": "tenant test", "role": "user" } ], "temperature": 0, "model": "cached" }',
    );
    expect(again.headers.get("x-gateway-cache")).toBe("hit");
    expect(again.headers.get("server-timing")).toMatch(/^answer;dur=\d+\.\d{3}$/);
    const againBody = (await again.json()) as OpenAI.ChatCompletion;
    expect(againBody.choices).toEqual(firstBody.choices);
    expect(againBody.usage).toEqual(firstBody.usage);
    expect(againBody.id).not.toBe(firstBody.id);
    expect(calls() - before).toBe(1);

    const other = await post(
      '{"model":"cached","temperature":0,"messages":[{"role":"user","content":"tenant test"}]}',
      {},
      otherTenant,
    );
    expect(other.headers.get("x-gateway-cache")).toBe("miss");
    expect(calls() - before).toBe(2);

    // Both show in analytics: the hit with the tokens and money it saved and no provider, the
    // miss as a call at the configured price (USD 2.5, 1.25 and 10 per million: 2,500, 1,250 and
    // 10,000 nano-USD a token).
    const usage = firstBody.usage as OpenAI.CompletionUsage;
    const cached = usage.prompt_tokens_details?.cached_tokens ?? 0;
    const cost = usdOfNano(
      (usage.prompt_tokens - cached) * 2_500 + cached * 1_250 + usage.completion_tokens * 10_000,
    );
    await eventually(async () => {
      const rows = await queryAnalytics(
        config,
        `SELECT cache, provider, output_tokens, toDecimalString(cost, 9) AS cost, priced,
                toDecimalString(cost_saved, 9) AS saved
         FROM attempts FINAL WHERE request_id IN ({first:UUID}, {again:UUID}) ORDER BY cache`,
        { first: requestIdOf(firstBody.id), again: requestIdOf(againBody.id) },
      );
      expect(rows).toEqual([
        {
          cache: "hit",
          provider: "",
          output_tokens: usage.completion_tokens,
          cost: "0.000000000",
          priced: true,
          saved: cost,
        },
        {
          cache: "miss",
          provider: "p",
          output_tokens: usage.completion_tokens,
          cost,
          priced: true,
          saved: "0.000000000",
        },
      ]);
    });
  });

  it("replays a cached answer as a proper stream to both SDKs, usage included", async () => {
    const question = { role: "user" as const, content: "stream me from the cache" };
    const whole = await openai.chat.completions.create({ model: "cached", messages: [question] });
    const before = calls();
    const chunks = await openai.chat.completions.create({
      model: "cached",
      messages: [question],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of chunks) {
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe(whole.choices[0]?.message.content);
    expect(finish).toBe("stop");
    expect(usage).toEqual(whole.usage);

    const message = await anthropic.messages.create({
      model: "cached",
      max_tokens: 50,
      messages: [question],
    });
    const replayed = await anthropic.messages
      .stream({ model: "cached", max_tokens: 50, messages: [question] })
      .finalMessage();
    expect(replayed.content).toEqual(message.content);
    expect(replayed.usage).toEqual(message.usage);
    expect(replayed.stop_reason).toBe(message.stop_reason);
    // Whole and streamed share one entry per API: one call for the OpenAI pair, one for the Anthropic pair.
    expect(calls() - before).toBe(1);
  });

  it("never stores failures, streams cut short, or tool calls made at a temperature above 0", async () => {
    const twice = async (body: Record<string, unknown>, stream = false) => {
      const before = calls();
      for (let round = 0; round < 2; round++) {
        const response = await post(
          JSON.stringify({ model: "cached", ...body, ...(stream && { stream: true }) }),
        );
        await response.text();
      }
      return calls() - before;
    };
    expect(await twice({ messages: [{ role: "user", content: "fail [emulator:status=500]" }] })).toBe(2);
    expect(await twice({ messages: [{ role: "user", content: "cut [emulator:disconnect=1]" }] }, true)).toBe(
      2,
    );
    const tool = { type: "function", function: { name: "f", parameters: { type: "object" } } };
    const toolCall = {
      messages: [{ role: "user", content: "call it" }],
      tools: [tool],
      tool_choice: "required",
    };
    expect(await twice({ ...toolCall, temperature: 1 })).toBe(2);
    expect(await twice({ ...toolCall, temperature: 0 })).toBe(1);
    expect(await twice({ model: "uncached", messages: [{ role: "user", content: "not cached" }] })).toBe(2);
  });

  it("obeys the caller: bypass, refresh, no-store (also as Cache-Control), and a shorter TTL", async () => {
    const body = (content: string) =>
      JSON.stringify({ model: "cached", messages: [{ role: "user", content }] });
    const status = async (content: string, headers: Record<string, string> = {}) => {
      const response = await post(body(content), headers);
      await response.text();
      return response.headers.get("x-gateway-cache");
    };
    expect(await status("controls")).toBe("miss");
    expect(await status("controls", { "x-gateway-cache": "bypass" })).toBe("bypass");
    expect(await status("controls", { "x-gateway-cache": "refresh" })).toBe("refresh");
    expect(await status("controls")).toBe("hit");
    expect(await status("not kept", { "cache-control": "no-store" })).toBe("miss");
    expect(await status("not kept", { "x-gateway-cache": "no-store" })).toBe("miss");
    expect(await status("brief", { "x-gateway-cache-ttl": "1" })).toBe("miss");
    expect(await status("brief")).toBe("hit");
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await status("brief")).toBe("miss");
    const refused = await post(body("x"), { "x-gateway-cache": "sometimes" });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { param: string } }).error.param).toBe("x-gateway-cache");
  });
  it("coalesces concurrent identical misses into one provider call", async () => {
    const before = calls();
    const body =
      '{"model":"cached","messages":[{"role":"user","content":"all at once [emulator:latency=300]"}]}';
    const responses = await Promise.all([post(body), post(body), post(body)]);
    const texts = await Promise.all(responses.map((response) => response.json()));
    expect(calls() - before).toBe(1);
    expect(responses.map((response) => response.headers.get("x-gateway-cache")).sort()).toEqual([
      "coalesced",
      "coalesced",
      "miss",
    ]);
    const answers = texts.map((text) => (text as OpenAI.ChatCompletion).choices[0]?.message.content);
    expect(new Set(answers).size).toBe(1);

    // Once kept, concurrent identical requests share one store read, and all of them are hits.
    const kept = await Promise.all(Array.from({ length: 20 }, () => post(body)));
    expect(kept.map((response) => response.headers.get("x-gateway-cache"))).toEqual(Array(20).fill("hit"));
    expect(calls() - before).toBe(1);
  });

  it("serves a kept answer to a similar request, only when it is safe, only to the same tenant, saying how similar", async () => {
    const ask = async (content: string, extra: Record<string, unknown> = {}, key = testKey) => {
      const response = await post(
        JSON.stringify({
          model: "semantic",
          temperature: 0,
          messages: [{ role: "user", content }],
          ...extra,
        }),
        {},
        key,
      );
      const body = (await response.json()) as OpenAI.ChatCompletion;
      return {
        cache: response.headers.get("x-gateway-cache"),
        similarity: response.headers.get("x-gateway-cache-similarity"),
        text: body.choices[0]?.message.content,
      };
    };
    const first = await ask("What is the capital city of France?");
    expect(first.cache).toBe("miss");
    const similar = await ask("what is the capital city of france");
    expect(similar).toMatchObject({ cache: "semantic-hit", text: first.text });
    expect(Number(similar.similarity)).toBeGreaterThanOrEqual(0.8);
    expect((await ask("How tall is the Eiffel tower?")).cache).toBe("miss");
    expect((await ask("what is the capital city of france", {}, otherTenant)).cache).toBe("miss");
    // Not at a temperature above 0: the exact cache only.
    expect((await ask("What is the capital city of France", { temperature: 0.7 })).cache).toBe("miss");
  });

  it("purges a tenant's or a model's answers when an admin asks, and only an admin", async () => {
    const ask = async (key: string) => {
      const response = await post(
        '{"model":"cached","messages":[{"role":"user","content":"purge me"}]}',
        {},
        key,
      );
      await response.text();
      return response.headers.get("x-gateway-cache");
    };
    const purge = (body: unknown, key = adminKey) =>
      fetch(`${gateway.url}/admin/cache/purge`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
        body: JSON.stringify(body),
      });
    await ask(testKey);
    await ask(otherTenant);
    expect([await ask(testKey), await ask(otherTenant)]).toEqual(["hit", "hit"]);

    expect((await purge({ model: "cached" }, testKey)).status).toBe(403);
    const byTenant = await purge({ keyId: hashKey(testKey).slice(0, 12) });
    expect(byTenant.status).toBe(200);
    expect(((await byTenant.json()) as { purged: number }).purged).toBeGreaterThanOrEqual(1);
    expect([await ask(testKey), await ask(otherTenant)]).toEqual(["miss", "hit"]);

    await purge({ model: "cached" });
    expect(await ask(otherTenant)).toBe("miss");
    expect((await purge({})).status).toBe(400);
  });
});

describe("the answer cache when Redis is down", () => {
  const redis = new Redis("redis://127.0.0.1:9", {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  afterAll(() => redis.disconnect());

  it("keeps serving through a gateway whose Redis is down, saying so in the header and in /metrics", async () => {
    const emulator = await startOpenAIEmulator({ apiKey: "key" });
    const gateway = await startTestGateway(
      testConfig("in-process", {
        redis: { url: "redis://127.0.0.1:9/0" },
        providers: [{ name: "p", type: "openai", options: { baseUrl: emulator.url, apiKey: "key" } }],
        models: [{ name: "cached", provider: "p", cache: { ttlSeconds: 60 } }],
      }),
    );
    try {
      const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: testKey, maxRetries: 0 });
      for (let round = 0; round < 2; round++) {
        const { data, response } = await client.chat.completions
          .create({ model: "cached", messages: [{ role: "user", content: "still there?" }] })
          .withResponse();
        expect(data.choices[0]?.message.content).toBe("Echo: still there?");
        expect(response.headers.get("x-gateway-cache")).toBe("unavailable");
      }
      expect(emulator.requests).toHaveLength(2);
      const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
      expect(metrics).toContain('gateway_cache_requests_total{model="cached",status="unavailable"} 2');
    } finally {
      await gateway.close();
      await emulator.close();
    }
  });

  it("says it is unavailable and lets the call go on; storing fails quietly", async () => {
    const cache = new AnswerCache(
      createRedisAnswerStore(redis),
      createRedisSemanticIndex(redis),
      1_000_000,
      pino({ level: "silent" }),
    );
    expect(await cache.lookup("any")).toBe("unavailable");
    const pending = cache.recording(
      {
        id: "r",
        cancel: () => {},
        async *[Symbol.asyncIterator]() {
          // Through the codec, so that every field gets its default.
          yield replyEventCodec.decode(
            replyEventCodec.encode({ requestId: "r", attempt: "a", seq: 0, kind: "completed" }),
          );
        },
      },
      "key",
      1000,
      false,
      undefined,
    );
    const kinds = [];
    for await (const event of pending) kinds.push(event.kind);
    expect(kinds).toEqual(["completed"]);
  });
});
