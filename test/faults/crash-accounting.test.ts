import OpenAI from "openai";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type OpenAIEmulator, startOpenAIEmulator } from "../emulators/openai.ts";
import { eventually } from "../support/eventually.ts";
import { queryAnalytics, requestIdOf, testConfig, testKey, testSettings } from "../support/gateway.ts";
import { type GatewayProcess, spawnGateway } from "../support/processes.ts";
import { sampleSum, scrape } from "../support/prometheus.ts";

/**
 * What a worker's death does to the record of its work, in the distributed shape (ingress, sink
 * and workers as separate processes on real Kafka, Redis and ClickHouse): an answered request
 * keeps its attempt row and is never run again; a request whose client was told it failed is
 * never run again; a provider call in flight on a killed worker is recorded as lost, at the most
 * it could have cost.
 */
describe("crash accounting", () => {
  const namespace = `crash${Date.now()}`;
  let emulator: OpenAIEmulator;
  let settings: Record<string, unknown>;
  let ingress: GatewayProcess;
  let sink: GatewayProcess;
  let client: OpenAI;
  const workers: GatewayProcess[] = [];

  beforeAll(async () => {
    emulator = await startOpenAIEmulator({ apiKey: "sk-emulated", chunkDelayMs: 100 });
    settings = testSettings(
      "kafka",
      {
        log: { level: "info" },
        ingress: { workerSilenceMs: 1500 },
        workers: { heartbeatMs: 300 },
        kafka: { sessionTimeoutMs: 6000 },
        providers: [
          { name: "emulated", type: "openai", options: { baseUrl: emulator.url, apiKey: "sk-emulated" } },
        ],
        models: [{ name: "gpt-4o-mini", provider: "emulated" }],
      },
      namespace,
    );
    [sink, ingress] = await Promise.all([spawnGateway(settings, "sink"), spawnGateway(settings, "ingress")]);
    client = new OpenAI({ baseURL: `${ingress.url}/v1`, apiKey: testKey, maxRetries: 0 });
  }, 120_000);

  // Each test starts the workers it needs: the one it kills is the only one consuming.
  afterEach(() => {
    for (const worker of workers.splice(0)) worker.kill("SIGKILL");
  });

  afterAll(async () => {
    for (const process of [ingress, sink]) process?.kill("SIGKILL");
    await emulator?.close();
  });

  /** A worker process of its own, the only one consuming until the next starts. */
  async function startWorker(): Promise<GatewayProcess> {
    const worker = await spawnGateway(settings, "worker");
    workers.push(worker);
    return worker;
  }

  const billsOf = (prompt: string) => emulator.bills.filter((bill) => bill.prompt === prompt);

  async function attemptsOf(requestId: string) {
    return queryAnalytics<{
      attempt: string;
      outcome: string;
      error_code: string;
      cost: string;
      input_tokens: number;
      output_tokens: number;
    }>(
      testConfig("kafka", {}, namespace),
      `SELECT attempt, outcome, error_code, toString(cost) AS cost, input_tokens, output_tokens
       FROM attempts FINAL WHERE request_id = {id:UUID} ORDER BY started_at`,
      { id: requestId },
    );
  }

  /** Waits until `worker` refused a redelivery for `reason`, i.e. the killed worker's requests reached it. */
  async function refusedBy(worker: GatewayProcess, reason: string) {
    await eventually(
      async () =>
        expect(
          sampleSum(await scrape(worker.url), "gateway_worker_refused_total", { reason }),
        ).toBeGreaterThan(0),
      60_000,
    );
  }

  it("keeps the attempt row of a request answered just before its worker died, and never runs it again", async () => {
    const first = await startWorker();
    const prompt = `answered then killed ${Date.now()}`;
    const answer = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: prompt }],
    });
    // The answer is out: the worker dies before it can have done anything after it.
    first.kill("SIGKILL");
    expect(answer.choices[0]?.message.content).toBe(`Echo: ${prompt}`);
    const second = await startWorker();
    await refusedBy(second, "finished");
    const requestId = requestIdOf(answer.id);
    await eventually(async () => {
      const rows = await attemptsOf(requestId);
      expect(rows.map((row) => row.outcome)).toEqual(["completed"]);
      expect(rows[0]?.output_tokens).toBe(answer.usage?.completion_tokens);
    }, 30_000);
    expect(billsOf(prompt)).toHaveLength(1);
  }, 120_000);

  it("never calls the provider again for a request whose client was told it failed", async () => {
    const stalled = await startWorker();
    const prompt = `stalled mid-stream ${Date.now()} ${"word ".repeat(60)}`;
    const stream = await client.chat.completions.create({
      model: "gpt-4o-mini",
      stream: true,
      messages: [{ role: "user", content: prompt }],
    });
    const seen: string[] = [];
    const read = (async () => {
      for await (const chunk of stream) {
        seen.push(chunk.choices[0]?.delta.content ?? "");
        // Silent but alive: its claim and its Kafka session lapse, the ingress gives up on it.
        if (seen.length === 3) stalled.kill("SIGSTOP");
      }
    })();
    await expect(read).rejects.toThrow(/worker serving this request stopped/);
    const second = await startWorker();
    // Kafka redelivers the request once the stalled worker's session lapses: refused, not run.
    await refusedBy(second, "cancelled");
    expect(billsOf(prompt)).toHaveLength(1);
  }, 120_000);

  it("records a provider call cut short by its worker's death as lost, at no less than the provider billed", async () => {
    const victim = await startWorker();
    const prompt = `killed mid-call ${Date.now()} ${"word ".repeat(60)}`;
    let requestId: string | undefined;
    const stream = await client.chat.completions.create({
      model: "gpt-4o-mini",
      stream: true,
      max_tokens: 300,
      messages: [{ role: "user", content: prompt }],
    });
    const read = (async () => {
      for await (const chunk of stream) {
        requestId ??= requestIdOf(chunk.id);
        if ((billsOf(prompt)[0]?.outputTokens ?? 0) >= 5) victim.kill("SIGKILL");
      }
    })();
    await expect(read).rejects.toThrow(/worker serving this request stopped/);
    const survivor = await startWorker();
    await refusedBy(survivor, "cancelled");
    const [bill] = billsOf(prompt);
    let rows: Awaited<ReturnType<typeof attemptsOf>> = [];
    await eventually(async () => {
      rows = await attemptsOf(requestId as string);
      expect(rows).toHaveLength(1);
    }, 30_000);
    const [lost] = rows;
    expect(lost).toMatchObject({ outcome: "failed", error_code: "lost" });
    expect(lost?.input_tokens).toBeGreaterThanOrEqual(bill?.inputTokens as number);
    expect(lost?.output_tokens).toBe(300);
    expect(lost?.output_tokens).toBeGreaterThanOrEqual(bill?.outputTokens as number);
    expect(Number(lost?.cost)).toBeGreaterThan(0);
  }, 120_000);
});
