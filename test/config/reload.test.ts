import { mkdtempSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../support/eventually.ts";
import { busKinds, testKey, testSettings } from "../support/gateway.ts";
import { type GatewayProcess, type LogLine, spawnGateway } from "../support/processes.ts";
import { sampleSum, scrape } from "../support/prometheus.ts";

/** Prices of the mock's models in USD per million tokens, as the files below give them. */
const cheap = { input: 1, output: 1 };
const dearer = { input: 3, output: 3 };

/** Every stream answers this many words, slowly: several are in flight whenever the file changes. */
const streamWords = 30;

/**
 * A gateway started as `ai-gateway start` in its own process, its configuration file rewritten
 * and signalled while streams run through it without pause: what a reload applies reaches new
 * requests, a bad file is refused and changes nothing, and no stream in flight fails.
 */
describe.each(busKinds)("reloading the configuration of a running gateway on the %s bus", (bus) => {
  const namespace = `reload${Date.now()}${bus.length}`;
  const priceFile = join(mkdtempSync(join(tmpdir(), "gateway-prices-")), "prices.yaml");
  let gateway: GatewayProcess;
  let client: OpenAI;

  /** The file: a slow provider for the streams, a priced model, a guarded one, and `changes` over them. */
  const settings = (changes: {
    added?: boolean;
    price?: typeof cheap;
    deny?: string[];
    bodyLimit?: number;
  }) =>
    testSettings(
      bus,
      {
        log: { level: "info" },
        server: { bodyLimitBytes: changes.bodyLimit ?? 4 * 1024 * 1024 },
        providers: [
          { name: "mock", type: "mock" },
          // A reload that changes it swaps its instance: streams in flight keep the old one.
          { name: "slow", type: "mock", options: { tokensPerSecond: changes.added ? 25 : 20 } },
        ],
        models: [
          { name: "streamed", provider: "slow" },
          { name: "priced", provider: "mock" },
          { name: "filed", provider: "mock" },
          { name: "guarded", provider: "mock", guardrails: { deny: changes.deny ?? [] } },
          ...(changes.added ? [{ name: "added", provider: "mock" }] : []),
        ],
        pricing: { file: priceFile, prices: { mock: { priced: changes.price ?? cheap } } },
      },
      namespace,
    );
  const initial = settings({});
  const changed = settings({ added: true, price: dearer, deny: ["forbidden"], bodyLimit: 2 * 1024 * 1024 });

  /** As editors save: a new file renamed over the old one. */
  const replaceFile = (text: string) => {
    const next = `${gateway.configFile}.saving`;
    writeFileSync(next, text);
    renameSync(next, gateway.configFile);
  };
  const linesStarting = (prefix: string): LogLine[] =>
    gateway.lines.filter((line) => line.msg.startsWith(prefix));
  const reloaded = () => linesStarting("configuration reloaded");
  const refused = () => linesStarting("configuration refused, keeping the previous one");

  /** A call to `model`, and what /metrics says it cost against what its usage at `price` costs. */
  async function costOf(model: string, price: typeof cheap) {
    const deployment = `mock/${model}`;
    const costSoFar = async () =>
      sampleSum(await scrape(gateway.url), "gateway_cost_usd_total", { deployment });
    const before = await costSoFar();
    const answer = await client.chat.completions.create({
      model,
      messages: [{ role: "user", content: "what does this cost" }],
    });
    const usage = answer.usage as OpenAI.CompletionUsage;
    const expected = (usage.prompt_tokens * price.input + usage.completion_tokens * price.output) / 1e6;
    let charged = 0;
    await eventually(async () => {
      charged = (await costSoFar()) - before;
      expect(charged).toBeGreaterThan(0);
    });
    return { charged, expected };
  }

  async function refusal(model: string, content: string): Promise<{ status?: number; message: string }> {
    const error = await client.chat.completions.create({ model, messages: [{ role: "user", content }] }).then(
      () => undefined,
      (caught: InstanceType<typeof OpenAI.APIError>) => caught,
    );
    return { status: error?.status, message: error?.message ?? "answered" };
  }

  beforeAll(async () => {
    writeFileSync(priceFile, `mock:\n  filed: ${JSON.stringify(cheap)}\n`);
    gateway = await spawnGateway(initial, "all");
    client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: testKey, maxRetries: 0 });
  }, 120_000);
  afterAll(async () => {
    gateway?.kill();
    await gateway?.exited;
  });

  it("applies a new model, price, guardrail and provider to new requests while streams in flight go on", async () => {
    const streams = streamWithoutPause(client);
    await eventually(() => expect(streams.outcomes.length).toBeGreaterThan(0), 30_000);
    const before = await costOf("priced", cheap);
    expect(before.charged).toBeCloseTo(before.expected, 12);
    expect((await refusal("added", "hello")).status).toBe(404);
    await client.chat.completions.create({
      model: "guarded",
      messages: [{ role: "user", content: "forbidden" }],
    });

    replaceFile(JSON.stringify(changed));
    await eventually(() => expect(reloaded()).toHaveLength(1), 30_000);
    const line = reloaded()[0] as LogLine;
    expect(line.msg).toBe(
      "configuration reloaded: 5 routes, 1 with guardrails, 2 providers, prices (changed: providers.slow, models.guarded, models.added, pricing.prices)",
    );
    expect(line.trigger).toBe("file change");
    expect(linesStarting("configuration options that need a restart").map((warning) => warning.msg)).toEqual([
      "configuration options that need a restart changed and are not applied: server.bodyLimitBytes",
    ]);

    const added = await client.chat.completions.create({
      model: "added",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(added.choices[0]?.message.content).toBe("You said: hi");
    expect((await client.models.list()).data.map((model) => model.id)).toContain("added");
    const denied = await refusal("guarded", "something forbidden");
    expect(denied.status).toBe(400);
    expect(denied.message).toContain("deny list");
    const after = await costOf("priced", dearer);
    expect(after.charged).toBeCloseTo(after.expected, 12);

    // Streams that began under the old file end after the reload, every one whole.
    const settled = streams.outcomes.length;
    await eventually(() => expect(streams.outcomes.length).toBeGreaterThan(settled + 3), 30_000);
    const outcomes = await streams.stop();
    expect(outcomes.filter((outcome) => outcome.error)).toEqual([]);
    expect(outcomes.every((outcome) => outcome.words === streamWords && outcome.finish === "stop")).toBe(
      true,
    );
    const reloadedAt = Date.parse(line.time as string);
    expect(outcomes.some((outcome) => outcome.startedAt < reloadedAt && outcome.endedAt > reloadedAt)).toBe(
      true,
    );
  }, 120_000);

  it("refuses a half-written, an invalid and an empty file with one line each, and serves on", async () => {
    const streams = streamWithoutPause(client);
    const bad = [
      "models:\n  - name: added\n    provider: [mock\n",
      JSON.stringify({ ...changed, models: [{ name: "added", provider: "nowhere" }] }),
      "",
    ];
    for (const [index, text] of bad.entries()) {
      replaceFile(text);
      await eventually(() => expect(refused()).toHaveLength(index + 1), 30_000);
    }
    expect(refused()[1]?.msg).toBe(
      `configuration refused, keeping the previous one: ${gateway.configFile}: models.0.provider: no provider is named "nowhere"`,
    );
    expect(refused()[2]?.msg).toBe(
      `configuration refused, keeping the previous one: ${gateway.configFile} is empty`,
    );
    expect(reloaded()).toHaveLength(1);

    // The version in use serves on: its new model, its guardrail.
    const added = await client.chat.completions.create({
      model: "added",
      messages: [{ role: "user", content: "still" }],
    });
    expect(added.choices[0]?.message.content).toBe("You said: still");
    expect((await refusal("guarded", "forbidden")).status).toBe(400);
    const samples = await scrape(gateway.url);
    expect(sampleSum(samples, "gateway_config_reloads_total", { outcome: "refused" })).toBe(3);
    expect(sampleSum(samples, "gateway_config_reloads_total", { outcome: "applied" })).toBe(1);

    const outcomes = await streams.stop();
    expect(outcomes.length).toBeGreaterThan(0);
    expect(outcomes.filter((outcome) => outcome.error)).toEqual([]);
    // The good file back: applied, with nothing to change.
    replaceFile(JSON.stringify(changed));
    await eventually(() => expect(reloaded()).toHaveLength(2), 30_000);
    expect(reloaded()[1]?.msg).toMatch(/\(changed: nothing\)$/);
  }, 120_000);

  it("reloads on SIGHUP, which also reads the price file again", async () => {
    const loadedAt = async () =>
      (await scrape(gateway.url)).filter(
        (sample) => sample.name === "gateway_config_loaded_timestamp_seconds",
      );
    const [version] = await loadedAt();
    // The price file is not watched (it may live anywhere): a call still costs the old price.
    writeFileSync(priceFile, `mock:\n  filed: ${JSON.stringify(dearer)}\n`);
    const unchanged = await costOf("filed", cheap);
    expect(unchanged.charged).toBeCloseTo(unchanged.expected, 12);

    gateway.kill("SIGHUP");
    await eventually(() => expect(reloaded()).toHaveLength(3), 30_000);
    expect(reloaded()[2]?.trigger).toBe("SIGHUP");
    const repriced = await costOf("filed", dearer);
    expect(repriced.charged).toBeCloseTo(repriced.expected, 12);
    const [now] = await loadedAt();
    expect(now?.labels.hash).toBe(version?.labels.hash);
    expect(now?.value).toBeGreaterThan(version?.value as number);
  }, 120_000);
});

interface StreamOutcome {
  startedAt: number;
  endedAt: number;
  words: number;
  finish: string | null;
  error?: string;
}

/** Three callers streaming from the slow provider one stream after another, until stopped. */
function streamWithoutPause(client: OpenAI) {
  const outcomes: StreamOutcome[] = [];
  let running = true;
  const caller = async () => {
    while (running) {
      const startedAt = Date.now();
      let text = "";
      let finish: string | null = null;
      try {
        const stream = await client.chat.completions.create({
          model: "streamed",
          stream: true,
          messages: [{ role: "user", content: `[mock:tokens=${streamWords}]` }],
        });
        for await (const chunk of stream) {
          text += chunk.choices[0]?.delta.content ?? "";
          finish = chunk.choices[0]?.finish_reason ?? finish;
        }
        outcomes.push({ startedAt, endedAt: Date.now(), words: text.split(" ").length, finish });
      } catch (error) {
        outcomes.push({ startedAt, endedAt: Date.now(), words: 0, finish, error: String(error) });
      }
    }
  };
  const callers = [caller(), caller(), caller()];
  return {
    outcomes,
    async stop() {
      running = false;
      await Promise.all(callers);
      return outcomes;
    },
  };
}
