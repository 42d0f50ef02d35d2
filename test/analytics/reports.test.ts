import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requestRow } from "../../analytics/rows.ts";
import type { RunningGateway } from "../../app/gateway.ts";
import { usdOfNano } from "../../config/pricing/cost.ts";
import { hashKey } from "../../governance/keys/keyring.ts";
import { requestEventCodec } from "../../schemas/index.ts";
import type { RequestEventInput } from "../../schemas/request-event.ts";
import { type AnthropicEmulator, startAnthropicEmulator } from "../emulators/anthropic.ts";
import { type OpenAIEmulator, startOpenAIEmulator } from "../emulators/openai.ts";
import { eventually } from "../support/eventually.ts";
import { busKinds, startTestGateway, testConfig, testKey } from "../support/gateway.ts";

const otherKey = "batch-key-0123456789";
const adminKey = "admin-key-0123456789";
const keyIdOf = (key: string) => hashKey(key).slice(0, 12);

/** Nano-USD a token, from USD per million: 2 → 2,000. */
const nano = (usdPerMillion: number) => usdPerMillion * 1000;
const gptPrice = { input: 2, output: 8 };
const claudePrice = { input: 3, output: 15 };

interface ReportAnswer {
  columns: Array<{ name: string; type: string }>;
  rows: Array<Record<string, unknown>>;
}

/**
 * A scripted mix of traffic through the real gateway — two tenants, two providers, streams,
 * cache hits, a failover, a refused request — then every named report must say exactly what was
 * sent: counts, tokens and cost to the nano-dollar. Each gateway runs its own embedded ClickHouse,
 * which has the reader user that reports run as wherever the test run's ClickHouse comes from
 * (admin-sql.test.ts runs them on that one too).
 */
describe.each(busKinds)("analytics reports on the %s bus", (bus) => {
  const dataDir = mkdtempSync(join(tmpdir(), "gateway-reports-"));
  let openaiUp: OpenAIEmulator;
  let openaiDown: OpenAIEmulator;
  let anthropicUp: AnthropicEmulator;
  let gateway: RunningGateway;
  let client: (key: string) => OpenAI;
  /** Nano-USD spent per key and model, from the usage each answer reported. */
  const spend = new Map<string, { requests: number; input: number; output: number; nano: number }>();
  let savedNano = 0;

  beforeAll(async () => {
    openaiUp = await startOpenAIEmulator({ apiKey: "k" });
    openaiDown = await startOpenAIEmulator({ apiKey: "k" });
    openaiDown.inject("[emulator:status=500]");
    anthropicUp = await startAnthropicEmulator({ apiKey: "k" });
    const config = testConfig(bus, {
      auth: {
        keys: [testKey, { key: otherKey, name: "nightly" }, { key: adminKey, name: "ops", admin: true }],
      },
      routing: { maxAttempts: 2 },
      analytics: { sink: { maxWaitMs: 100 } },
      clickhouse: { url: "", dataDir },
      providers: [
        { name: "oa", type: "openai", options: { baseUrl: openaiUp.url, apiKey: "k" } },
        { name: "bad", type: "openai", options: { baseUrl: openaiDown.url, apiKey: "k" } },
        { name: "an", type: "anthropic", options: { baseUrl: anthropicUp.url, apiKey: "k" } },
      ],
      pricing: { prices: { openai: { "gpt-e": gptPrice }, anthropic: { "claude-e": claudePrice } } },
      models: [
        { name: "gpt", provider: "oa", model: "gpt-e" },
        { name: "claude", provider: "an", model: "claude-e" },
        { name: "cached", provider: "oa", model: "gpt-e", cache: { ttlSeconds: 60 } },
        {
          name: "flaky",
          strategy: "priority",
          deployments: [
            { provider: "bad", model: "gpt-e" },
            { provider: "oa", model: "gpt-e" },
          ],
        },
      ],
    });
    gateway = await startTestGateway(config);
    client = (key) => new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key, maxRetries: 0 });

    const count = (
      key: string,
      model: string,
      usage: OpenAI.CompletionUsage | undefined,
      price: typeof gptPrice,
    ) => {
      const entry = spend.get(`${keyIdOf(key)} ${model}`) ?? { requests: 0, input: 0, output: 0, nano: 0 };
      const input = usage?.prompt_tokens ?? 0;
      const output = usage?.completion_tokens ?? 0;
      const cost = input * nano(price.input) + output * nano(price.output);
      spend.set(`${keyIdOf(key)} ${model}`, {
        requests: entry.requests + 1,
        input: entry.input + input,
        output: entry.output + output,
        nano: entry.nano + cost,
      });
      return cost;
    };
    const ask = async (key: string, model: string, content: string) =>
      (await client(key).chat.completions.create({ model, messages: [{ role: "user", content }] })).usage;
    const askStreamed = async (key: string, model: string, content: string) => {
      const stream = await client(key).chat.completions.create({
        model,
        messages: [{ role: "user", content }],
        stream: true,
        stream_options: { include_usage: true },
      });
      let usage: OpenAI.CompletionUsage | undefined;
      for await (const chunk of stream) usage = chunk.usage ?? usage;
      return usage;
    };

    for (let index = 0; index < 3; index++)
      count(testKey, "gpt", await ask(testKey, "gpt", `question ${index}`), gptPrice);
    for (let index = 0; index < 2; index++)
      count(testKey, "gpt", await askStreamed(testKey, "gpt", `streamed question number ${index}`), gptPrice);
    for (let index = 0; index < 2; index++)
      count(
        otherKey,
        "claude",
        await ask(otherKey, "claude", `a longer question for claude ${index}`),
        claudePrice,
      );
    const missCost = count(testKey, "cached", await ask(testKey, "cached", "kept answer"), gptPrice);
    for (let index = 0; index < 2; index++) {
      const usage = await ask(testKey, "cached", "kept answer");
      const entry = spend.get(`${keyIdOf(testKey)} cached`);
      if (entry)
        Object.assign(entry, {
          requests: entry.requests + 1,
          input: entry.input + (usage?.prompt_tokens ?? 0),
          output: entry.output + (usage?.completion_tokens ?? 0),
        });
      savedNano += missCost;
    }
    for (let index = 0; index < 2; index++)
      count(otherKey, "flaky", await ask(otherKey, "flaky", `flaky ${index}`), gptPrice);
    await expect(ask(testKey, "no-such-model", "refused")).rejects.toThrow(/does not exist/);
  }, 60_000);
  afterAll(async () => {
    await gateway?.close();
    await Promise.all([openaiUp?.close(), openaiDown?.close(), anthropicUp?.close()]);
    rmSync(dataDir, { recursive: true, force: true });
  });

  const report = async (
    name: string,
    range: { from: number; to?: number } = { from: Date.now() - 3_600_000 },
  ): Promise<ReportAnswer> => {
    const to = range.to === undefined ? "" : `&to=${new Date(range.to).toISOString()}`;
    const response = await fetch(
      `${gateway.url}/admin/analytics/reports/${name}?from=${new Date(range.from).toISOString()}${to}`,
      { headers: { authorization: `Bearer ${adminKey}` } },
    );
    if (response.status !== 200)
      throw new Error(`report ${name}: ${response.status} ${await response.text()}`);
    return (await response.json()) as ReportAnswer;
  };
  /** A report once every request of the script has landed (13 requests, the refused one included). */
  const settled = async (name: string): Promise<ReportAnswer> => {
    let answer: ReportAnswer | undefined;
    await eventually(async () => {
      const spendRows = (await report("spend-by-key")).rows;
      expect(spendRows.reduce((sum, row) => sum + Number(row.requests), 0)).toBe(13);
      answer = await report(name);
    }, 20_000);
    return answer as ReportAnswer;
  };

  it("lists its named reports", async () => {
    const listed = await fetch(`${gateway.url}/admin/analytics/reports`, {
      headers: { authorization: `Bearer ${adminKey}` },
    });
    const { reports } = (await listed.json()) as { reports: Array<{ name: string; description: string }> };
    expect(reports.map((entry) => entry.name)).toEqual([
      "audit-trail",
      "cache-savings",
      "errors-by-provider",
      "failover-paths",
      "latency-by-provider",
      "spend-by-batch",
      "spend-by-key",
      "spend-by-provider",
    ]);
    expect(reports.every((entry) => entry.description.length > 20)).toBe(true);
  });

  it("spend by key, team and model: requests, tokens and cost to the nano-dollar", async () => {
    const { rows } = await settled("spend-by-key");
    const byKeyAndModel = Object.fromEntries(
      rows.map((row) => [
        `${row.key_id} ${row.model_requested}`,
        {
          requests: Number(row.requests),
          input: Number(row.input_tokens),
          output: Number(row.output_tokens),
          cost: row.cost_usd,
        },
      ]),
    );
    const expected = Object.fromEntries(
      [...spend.entries()].map(([name, entry]) => [
        name,
        {
          requests: entry.requests,
          input: entry.input,
          output: entry.output,
          cost: usdOfNano(entry.nano),
        },
      ]),
    );
    expected[`${keyIdOf(testKey)} no-such-model`] = { requests: 1, input: 0, output: 0, cost: usdOfNano(0) };
    expect(byKeyAndModel).toEqual(expected);
  });

  it("cache savings: hits, hit rate and what they saved", async () => {
    const { rows } = await settled("cache-savings");
    expect(rows).toEqual([
      {
        model_requested: "cached",
        requests: expect.anything(),
        hits: expect.anything(),
        hit_rate: 0.6667,
        unavailable: expect.anything(),
        saved_usd: usdOfNano(savedNano),
      },
    ]);
    expect(Number(rows[0]?.requests)).toBe(3);
    expect(Number(rows[0]?.hits)).toBe(2);
  });

  it("errors by provider, and the failover path the flaky model took", async () => {
    const errors = (await settled("errors-by-provider")).rows.map((row) => ({
      provider: row.provider,
      calls: Number(row.calls),
      failed: Number(row.failed),
      top: row.top_errors,
    }));
    expect(errors).toEqual([
      { provider: "bad", calls: 2, failed: 2, top: ["provider_error"] },
      { provider: "an", calls: 2, failed: 0, top: [] },
      { provider: "oa", calls: 8, failed: 0, top: [] },
    ]);
    const paths = (await settled("failover-paths")).rows.map((row) => ({
      path: row.path,
      requests: Number(row.requests),
      answered: Number(row.answered),
    }));
    expect(paths).toEqual([{ path: "bad/gpt-e > oa/gpt-e", requests: 2, answered: 2 }]);
  });

  it("latency and time to first token by provider, from the per-minute rollups", async () => {
    const rows = (await settled("latency-by-provider")).rows;
    expect(rows.map((row) => [row.provider, Number(row.requests)])).toEqual([
      ["an", 2],
      ["oa", 8],
    ]);
    for (const row of rows) {
      expect(Number(row.duration_p50_ms)).toBeGreaterThan(0);
      expect(Number(row.duration_p99_ms)).toBeGreaterThanOrEqual(Number(row.duration_p50_ms));
    }
  });

  it("spend by provider: every billed call, failed ones included", async () => {
    const rows = (await settled("spend-by-provider")).rows;
    const gptNano = [...spend.entries()]
      .filter(([name]) => !name.endsWith("claude"))
      .reduce((sum, [, entry]) => sum + entry.nano, 0);
    expect(rows.map((row) => [row.provider, row.provider_model, Number(row.calls), row.cost_usd])).toEqual(
      expect.arrayContaining([
        ["oa", "gpt-e", 8, usdOfNano(gptNano)],
        ["bad", "gpt-e", 2, usdOfNano(0)],
      ]),
    );
  });

  it("spend by batch: each batch's lines once, succeeded and failed, tokens, cost and finish times, over [from, to)", async () => {
    // Batch lines as the coordinator records them, written with the sink's own row mapping. Three
    // hours back: outside the window of the scripted traffic's reports above.
    const base = Math.floor((Date.now() - 3 * 3_600_000) / 60_000) * 60_000;
    const from = base;
    const to = base + 600_000;
    const batchA = `batch_${randomUUID().replaceAll("-", "")}`;
    const batchB = `batch_${randomUUID().replaceAll("-", "")}`;
    // A key of its own, so the scripted traffic's counts per key stay as they are.
    const batchKeyId = keyIdOf("batch-report-key-0123456789");
    const line = (
      batchId: string | null,
      receivedAtMs: number,
      finishedAfterMs: number,
      outcome: "completed" | "failed",
      tokens: [number, number],
      costNanoUsd: number,
    ): RequestEventInput => ({
      requestId: randomUUID(),
      stage: "finished",
      ingressId: "coordinator",
      receivedAtMs,
      finishedAtMs: receivedAtMs + finishedAfterMs,
      priority: "batch",
      inboundApi: "openai-chat",
      stream: false,
      keyId: batchKeyId,
      modelRequested: "gpt",
      outcome,
      status: outcome === "completed" ? 200 : 502,
      usage: { inputTokens: tokens[0], outputTokens: tokens[1] },
      costNanoUsd,
      priced: true,
      batchId,
    });
    const a1 = line(batchA, base, 1_000, "completed", [100, 20], 1_000);
    const a2 = line(batchA, base + 1_000, 4_000, "completed", [200, 30], 2_500);
    const a3 = line(batchA, base + 2_000, 500, "failed", [0, 0], 300);
    const b1 = line(batchB, base + 3_000, 2_000, "completed", [50, 10], 700);
    const received: RequestEventInput = {
      ...a1,
      stage: "received",
      finishedAtMs: null,
      outcome: "unknown",
      status: 0,
      usage: null,
      costNanoUsd: 0,
    };
    // Two inserts, as two sink batches: a1's received row, then its finished row replacing it; a2
    // stored again (as if by a replay), which only FINAL makes one.
    const inserts: RequestEventInput[][] = [
      [
        received,
        a2,
        a3,
        b1,
        line(null, base + 1_000, 1_000, "completed", [1_000, 1_000], 99_999), // no batch's
        line(batchA, base - 60_000, 1_000, "completed", [7, 7], 7_777), // received before `from`
        line(batchB, to, 1_000, "completed", [7, 7], 7_777), // received at `to`: excluded
      ],
      [a1, a2],
    ];
    let offset = 0;
    for (const events of inserts)
      await gateway.clickhouse?.client.insert({
        table: "requests",
        values: events.map((event) =>
          // A partition no sink reads, so no sink mistakes these offsets for its own.
          requestRow(requestEventCodec.decode(requestEventCodec.encode(event)), 999, offset++),
        ),
        format: "JSONEachRow",
      });

    const { rows } = await report("spend-by-batch", { from, to });
    const at = (ms: number) => new Date(ms).toISOString().replace("T", " ").replace("Z", "");
    expect(
      rows.map((row) => ({
        ...row,
        requests: Number(row.requests),
        succeeded: Number(row.succeeded),
        failed: Number(row.failed),
        input_tokens: Number(row.input_tokens),
        output_tokens: Number(row.output_tokens),
      })),
    ).toEqual([
      {
        batch_id: batchA,
        key_id: batchKeyId,
        requests: 3,
        succeeded: 2,
        failed: 1,
        input_tokens: 300,
        output_tokens: 50,
        cost_usd: usdOfNano(1_000 + 2_500 + 300),
        first_finished_at: at(base + 1_000),
        last_finished_at: at(base + 5_000),
      },
      {
        batch_id: batchB,
        key_id: batchKeyId,
        requests: 1,
        succeeded: 1,
        failed: 0,
        input_tokens: 50,
        output_tokens: 10,
        cost_usd: usdOfNano(700),
        first_finished_at: at(base + 5_000),
        last_finished_at: at(base + 5_000),
      },
    ]);
  });

  it("runs an admin's own SQL as the reader user, with limits ClickHouse enforces", async () => {
    const query = (sql: string, key = adminKey) =>
      fetch(`${gateway.url}/admin/analytics/query`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
        body: JSON.stringify({ sql, params: { key: keyIdOf(otherKey) } }),
      });
    const answer = await query(
      "SELECT count() AS n FROM requests FINAL WHERE key_id = {key:String} AND stage = 'finished'",
    );
    expect(answer.status).toBe(200);
    expect(Number(((await answer.json()) as ReportAnswer).rows[0]?.n)).toBe(4);

    const write = await query("DROP TABLE requests");
    expect(write.status).toBe(400);
    expect(await write.text()).toMatch(/not DROP/);
    const lifted = await query("SELECT number FROM numbers(20000) SETTINGS max_result_rows = 100000");
    expect(lifted.status).toBe(400);
    const tooMany = await query("SELECT number FROM numbers(20000)");
    expect(tooMany.status).toBe(400);
    expect(await tooMany.text()).toMatch(/Limit for result exceeded/);
    expect((await query("SELECT 1", testKey)).status).toBe(403);
  });
});
