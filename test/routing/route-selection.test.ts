import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../app/gateway.ts";
import { type OpenAIEmulator, startOpenAIEmulator } from "../emulators/openai.ts";
import { eventually } from "../support/eventually.ts";
import { queryAnalytics, requestIdOf, startTestGateway, testConfig, testKey } from "../support/gateway.ts";

/** Which route serves a request, and which deployment of it: conditions, caller hints, cache affinity. */
describe("route selection", () => {
  let a: OpenAIEmulator;
  let b: OpenAIEmulator;
  let gateway: RunningGateway;
  let client: OpenAI;
  let nightly: OpenAI;
  let config: ReturnType<typeof testConfig>;

  beforeAll(async () => {
    [a, b] = await Promise.all([
      startOpenAIEmulator({ apiKey: "key-a" }),
      startOpenAIEmulator({ apiKey: "key-b" }),
    ]);
    const tier = (model: string, quality: number, price: number, provider = "a") => ({
      provider,
      model,
      quality,
      price: { input: price, output: price },
    });
    config = testConfig("in-process", {
      providers: [
        { name: "a", type: "openai", options: { baseUrl: a.url, apiKey: "key-a" } },
        { name: "b", type: "openai", options: { baseUrl: b.url, apiKey: "key-b" } },
      ],
      models: [
        { name: "conditional", when: { keys: ["nightly"] }, provider: "a", model: "cond-nightly" },
        { name: "conditional", when: { tags: { tier: "free" } }, provider: "a", model: "cond-free" },
        { name: "conditional", when: { minPromptTokens: 2000 }, provider: "a", model: "cond-long" },
        { name: "conditional", when: { tools: true }, provider: "a", model: "cond-tools" },
        { name: "conditional", provider: "a", model: "cond-default" },
        {
          name: "tiered",
          deployments: [tier("t-cheap", 3, 1), tier("t-mid", 6, 5), tier("t-best", 9, 20, "b")],
        },
        ...["affine", "scattered"].map((name) => ({
          name,
          promptCacheAffinity: name === "affine",
          deployments: [
            { provider: "a", model: `${name}-a` },
            { provider: "b", model: `${name}-b` },
          ],
        })),
      ],
    });
    gateway = await startTestGateway(config);
    client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: testKey, maxRetries: 0 });
    nightly = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "batch-key-0123456789", maxRetries: 0 });
  });
  afterAll(async () => {
    await gateway.close();
    await Promise.all([a.close(), b.close()]);
  });

  const lastModel = (emulator: OpenAIEmulator) =>
    (emulator.requests.at(-1)?.body as { model?: string } | undefined)?.model;
  const servedBy = () => lastModel(a);
  const ask = (
    model: string,
    headers: Record<string, string> = {},
    extra: Partial<OpenAI.ChatCompletionCreateParamsNonStreaming> = {},
    via = client,
  ) =>
    via.chat.completions.create(
      { model, max_tokens: 100, messages: [{ role: "user", content: "hi" }], ...extra },
      { headers },
    );

  it("serves a request from the first entry of its model whose conditions it meets: key, tags, prompt size, tools", async () => {
    await ask("conditional", {}, {}, nightly);
    expect(servedBy()).toBe("cond-nightly");
    const free = await ask("conditional", { "x-gateway-tags": "tier=free, team=search" });
    expect(servedBy()).toBe("cond-free");
    await ask("conditional", {}, { messages: [{ role: "user", content: "word ".repeat(2500) }] });
    expect(servedBy()).toBe("cond-long");
    await ask("conditional", {}, { tools: [{ type: "function", function: { name: "f", parameters: {} } }] });
    expect(servedBy()).toBe("cond-tools");
    await ask("conditional");
    expect(servedBy()).toBe("cond-default");

    // The tags also label the request in analytics.
    await eventually(async () => {
      const [row] = await queryAnalytics<{ tags: Record<string, string> }>(
        config,
        "SELECT tags FROM attempts FINAL WHERE request_id = {id:UUID}",
        { id: requestIdOf(free.id) },
      );
      expect(row?.tags).toEqual({ tier: "free", team: "search" });
    });
    await expect(ask("conditional", { "x-gateway-tags": "bad name=1" })).rejects.toMatchObject({
      status: 400,
      param: "x-gateway-tags",
    });
  });

  it("gives a caller naming a quality floor the cheapest deployment meeting it, and one naming a budget the best within it", async () => {
    await ask("tiered", { "x-gateway-min-quality": "5" });
    expect(servedBy()).toBe("t-mid");
    // About 100 tokens of output and a few of input: t-mid costs ~0.0005 USD, t-best ~0.002.
    await ask("tiered", { "x-gateway-max-cost": "0.001" });
    expect(servedBy()).toBe("t-mid");
    await ask("tiered", { "x-gateway-max-cost": "0.01" });
    expect(lastModel(b)).toBe("t-best");
    await expect(ask("tiered", { "x-gateway-min-quality": "10" })).rejects.toMatchObject({
      status: 400,
      message: expect.stringMatching(
        /no deployment of tiered meets what the request asked: quality at least 10/,
      ),
    });
    await expect(ask("tiered", { "x-gateway-max-cost": "cheap" })).rejects.toMatchObject({
      status: 400,
      param: "x-gateway-max-cost",
    });
  });

  it("keeps each conversation on one deployment, so the provider's prompt cache holds its whole history", async () => {
    // Multi-turn conversations whose history grows: a provider caches a turn's prompt only if it served the turn before.
    const ratio = async (model: string) => {
      let prompt = 0;
      let cached = 0;
      let fullHistory = true;
      for (let conversation = 0; conversation < 8; conversation++) {
        const messages: OpenAI.ChatCompletionMessageParam[] = [
          { role: "system", content: `${model} conversation ${conversation}: ${"be brief ".repeat(100)}` },
        ];
        let previousPrompt = 0;
        for (let turn = 0; turn < 5; turn++) {
          messages.push({ role: "user", content: `turn ${turn} ${"context ".repeat(600)}` });
          const answer = await client.chat.completions.create({ model, messages });
          const usage = answer.usage as OpenAI.CompletionUsage;
          prompt += usage.prompt_tokens;
          cached += usage.prompt_tokens_details?.cached_tokens ?? 0;
          // OpenAI caches from 1024 tokens, in steps of 128: the whole previous prompt, when it served it.
          const wholeHistory = previousPrompt >= 1024 ? Math.floor(previousPrompt / 128) * 128 : 0;
          if ((usage.prompt_tokens_details?.cached_tokens ?? 0) < wholeHistory) fullHistory = false;
          previousPrompt = usage.prompt_tokens;
          messages.push({ role: "assistant", content: answer.choices[0]?.message.content ?? "" });
        }
      }
      return { ratio: cached / prompt, fullHistory };
    };
    const affine = await ratio("affine");
    const scattered = await ratio("scattered");
    expect(affine.fullHistory).toBe(true);
    expect(scattered.fullHistory).toBe(false);
    expect(affine.ratio).toBeGreaterThan(scattered.ratio);
  });
});
