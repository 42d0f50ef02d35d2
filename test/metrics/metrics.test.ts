import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { RunningGateway } from "../../app/gateway.ts";
import { type OpenAIEmulator, startOpenAIEmulator } from "../emulators/openai.ts";
import { eventually } from "../support/eventually.ts";
import { busKinds, startTestGateway, testConfig, testKey } from "../support/gateway.ts";
import { type Sample, sampleSum, scrape } from "../support/prometheus.ts";

/** USD per million tokens of the `counted` route's deployment, to check the cost counter against. */
const price = { input: 2, output: 8 };

/**
 * GET /metrics after real traffic through a whole gateway: an OpenAI emulator behind two routes,
 * `counted` (one priced deployment) and `flaky` (a deployment nobody answers at, then the emulator),
 * with circuit breakers on. Each test compares a scrape after its traffic with one before it.
 */
describe.each(busKinds)("Prometheus metrics on the %s bus", (bus) => {
  let emulator: OpenAIEmulator;
  let gateway: RunningGateway;
  let client: OpenAI;
  let settings: Record<string, unknown>;
  /** The priority of the test key's requests. */
  let priority: string;

  beforeAll(async () => {
    emulator = await startOpenAIEmulator({ apiKey: "key" });
    settings = {
      providers: [
        { name: "p", type: "openai", options: { baseUrl: emulator.url, apiKey: "key" } },
        { name: "dead", type: "openai", options: { baseUrl: "http://127.0.0.1:9/v1", apiKey: "key" } },
      ],
      models: [
        { name: "counted", deployments: [{ provider: "p", model: "counted-p", price }] },
        {
          name: "flaky",
          strategy: "priority",
          deployments: [
            { provider: "dead", model: "flaky-dead" },
            { provider: "p", model: "flaky-p" },
          ],
        },
      ],
      routing: {
        maxAttempts: 2,
        retryBudget: 1,
        circuitBreakers: true,
        breakerFailures: 3,
        // Open for the rest of the file once opened.
        breakerCooldownMs: 600_000,
      },
    };
    const config = testConfig(bus, settings);
    priority = config.ingress.defaultPriority;
    gateway = await startTestGateway(config);
    client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: testKey, maxRetries: 0 });
  });
  afterAll(async () => {
    await gateway.close();
    await emulator.close();
  });

  const ask = (model: string, content: string) =>
    client.chat.completions.create({ model, messages: [{ role: "user", content }] });
  /** How much a metric grew between two scrapes. */
  const growth = (before: Sample[], after: Sample[]) => (name: string, labels: Record<string, string>) =>
    sampleSum(after, name, labels) - sampleSum(before, name, labels);
  const counted = { provider: "p", deployment: "p/counted-p" };

  it("counts each request with its latencies, and the tokens and cost its response reported", async () => {
    const before = await scrape(gateway.url);
    const whole = await Promise.all([ask("counted", "one two three"), ask("counted", "four five")]);
    const stream = await client.chat.completions.create({
      model: "counted",
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: "six seven eight nine" }],
    });
    const usages = whole.map((completion) => completion.usage);
    for await (const chunk of stream) if (chunk.usage) usages.push(chunk.usage);
    expect(usages).toHaveLength(3);
    const input = usages.reduce((sum, usage) => sum + (usage?.prompt_tokens ?? 0), 0);
    const output = usages.reduce((sum, usage) => sum + (usage?.completion_tokens ?? 0), 0);
    expect(input).toBeGreaterThan(0);

    await eventually(async () => {
      const after = await scrape(gateway.url);
      const grew = growth(before, after);
      const request = { model: "counted", api: "openai_chat", priority, cache: "" };
      expect(grew("gateway_requests_total", { ...request, status: "200" })).toBe(3);
      expect(grew("gateway_request_duration_seconds_count", request)).toBe(3);
      expect(grew("gateway_time_to_first_token_seconds_count", request)).toBe(1);
      expect(grew("gateway_queue_wait_seconds_count", { priority })).toBe(3);
      expect(
        grew("gateway_provider_attempts_total", { ...counted, outcome: "completed", error_code: "" }),
      ).toBe(3);
      expect(grew("gateway_provider_call_duration_seconds_count", { ...counted, outcome: "completed" })).toBe(
        3,
      );
      expect(grew("gateway_provider_time_to_first_token_seconds_count", counted)).toBe(1);
      expect(grew("gateway_tokens_total", { ...counted, type: "input" })).toBe(input);
      expect(grew("gateway_tokens_total", { ...counted, type: "output" })).toBe(output);
      expect(grew("gateway_tokens_total", { ...counted, type: "reasoning" })).toBe(0);
      expect(grew("gateway_cost_usd_total", counted)).toBeCloseTo(
        (input * price.input + output * price.output) / 1e6,
        12,
      );
      expect(sampleSum(after, "gateway_requests_in_flight", { priority })).toBe(0);
      expect(sampleSum(after, "gateway_worker_running_requests", { priority })).toBe(0);
      expect(sampleSum(after, "gateway_worker_queued_requests", { priority })).toBe(0);
    });
  });

  it("shows a failing deployment's attempts with their error code, the failovers, and its breaker open", async () => {
    const before = await scrape(gateway.url);
    // Three failures open the dead deployment's breaker: the fourth request goes straight to p.
    for (let request = 0; request < 4; request++) await ask("flaky", `question ${request}`);

    await eventually(async () => {
      const after = await scrape(gateway.url);
      const grew = growth(before, after);
      const dead = { provider: "dead", deployment: "dead/flaky-dead" };
      expect(grew("gateway_provider_attempts_total", dead)).toBe(3);
      expect(
        grew("gateway_provider_attempts_total", { ...dead, outcome: "failed", error_code: "provider_error" }),
      ).toBe(3);
      expect(grew("gateway_provider_attempts_total", { deployment: "p/flaky-p", outcome: "completed" })).toBe(
        4,
      );
      expect(grew("gateway_provider_retries_total", { model: "flaky", kind: "failover" })).toBe(3);
      expect(grew("gateway_provider_retries_total", { model: "flaky", kind: "retry" })).toBe(0);
      expect(grew("gateway_requests_total", { model: "flaky", status: "200" })).toBe(4);
      expect(after.filter((sample) => sample.name === "gateway_circuit_breaker_state")).toEqual(
        expect.arrayContaining([
          { name: "gateway_circuit_breaker_state", labels: { deployment: "dead/flaky-dead" }, value: 2 },
          { name: "gateway_circuit_breaker_state", labels: { deployment: "p/flaky-p" }, value: 0 },
        ]),
      );
    });
  });

  it("counts refused, failed and abandoned requests with the status each ended with, over HTTP and WebSocket", async () => {
    const before = await scrape(gateway.url);
    await expect(ask("no-such-model", "hi")).rejects.toMatchObject({ status: 404 });
    const stranger = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "not-a-key", maxRetries: 0 });
    await expect(
      stranger.chat.completions.create({ model: "counted", messages: [{ role: "user", content: "hi" }] }),
    ).rejects.toMatchObject({ status: 401 });

    // Fails after its first words went out with status 200: counted with the error's status.
    const broken = await client.chat.completions.create({
      model: "counted",
      stream: true,
      messages: [{ role: "user", content: "[emulator:midstream] one two three" }],
    });
    await expect(
      (async () => {
        for await (const _chunk of broken);
      })(),
    ).rejects.toThrow();

    // The client goes away after the first chunk.
    const abandon = new AbortController();
    const slow = await client.chat.completions.create(
      {
        model: "counted",
        stream: true,
        messages: [{ role: "user", content: "[emulator:delay=200] one two three four five six" }],
      },
      { signal: abandon.signal },
    );
    try {
      for await (const _chunk of slow) abandon.abort();
    } catch {
      // How the SDK ends an aborted stream is its business; the gateway's count is what is tested.
    }

    // One streamed request over the WebSocket.
    const socket = new WebSocket(`${gateway.url.replace("http", "ws")}/v1/ws`, {
      headers: { authorization: `Bearer ${testKey}` },
    });
    const done = new Promise<{ type: string }>((resolve) =>
      socket.on("message", (data) => {
        const message = JSON.parse(data.toString()) as { type: string };
        if (message.type !== "chunk") resolve(message);
      }),
    );
    await new Promise((resolve) => socket.once("open", resolve));
    socket.send(
      JSON.stringify({
        type: "request",
        id: "w1",
        api: "openai_chat",
        body: { model: "counted", stream: true, messages: [{ role: "user", content: "over the socket" }] },
      }),
    );
    expect(await done).toMatchObject({ type: "done" });
    socket.close();

    await eventually(async () => {
      const after = await scrape(gateway.url);
      const grew = growth(before, after);
      const api = "openai_chat";
      expect(grew("gateway_requests_total", { api, model: "", priority: "", status: "404" })).toBe(1);
      expect(grew("gateway_requests_total", { api, model: "", priority: "", status: "401" })).toBe(1);
      expect(grew("gateway_requests_total", { api, model: "counted", status: "499" })).toBe(1);
      expect(grew("gateway_requests_total", { api, model: "counted", status: "200" })).toBe(1);
      const statuses = new Set(after.map((sample) => sample.labels.status ?? ""));
      const serverErrors = [...statuses].filter((status) => status.startsWith("5"));
      expect(
        serverErrors.reduce(
          (sum, status) => sum + grew("gateway_requests_total", { model: "counted", status }),
          0,
        ),
      ).toBe(1);
      // Every stream that sent content: the broken one, the abandoned one and the socket's.
      expect(grew("gateway_time_to_first_token_seconds_count", { model: "counted" })).toBe(3);
      expect(
        grew("gateway_provider_attempts_total", {
          ...counted,
          outcome: "cancelled",
          error_code: "cancelled",
        }),
      ).toBe(1);
      expect(sampleSum(after, "gateway_requests_in_flight", { priority })).toBe(0);
    });
  });

  // Kafka lag and separate roles exist on the Kafka bus only: these tests are not defined in process.
  if (bus !== "kafka") return;

  it("reports the requests the workers have not committed in Kafka while one runs", async () => {
    const lag = (samples: Sample[]) => sampleSum(samples, "gateway_kafka_request_lag", { priority });
    const slow = ask("counted", "[emulator:latency=4000] take your time");
    await eventually(async () => {
      const samples = await scrape(gateway.url);
      expect(sampleSum(samples, "gateway_worker_running_requests", { priority })).toBe(1);
      expect(lag(samples)).toBe(1);
    });
    await slow;
    await eventually(async () => {
      const samples = await scrape(gateway.url);
      expect(lag(samples)).toBe(0);
      expect(samples.filter((sample) => sample.name === "gateway_kafka_request_lag")).toHaveLength(3);
    });
  });

  it("serves metrics from worker-only and sink-only processes too", async () => {
    const config = testConfig(bus, settings);
    const worker = await startTestGateway(config, "worker");
    const sink = await startTestGateway(config, "sink");
    try {
      const [ofWorker, ofSink] = await Promise.all(
        [worker, sink].map(async (part) => (await fetch(`${part.url}/metrics`)).text()),
      );
      for (const text of [ofWorker, ofSink]) {
        expect(text).toMatch(/^gateway_process_cpu_user_seconds_total \d/m);
        expect(text).not.toContain("# TYPE gateway_requests_total");
      }
      expect(ofWorker).toContain("# TYPE gateway_provider_attempts_total counter");
      expect(ofWorker).toMatch(/^gateway_worker_queued_requests\{priority="batch"\} 0$/m);
      expect(ofSink).not.toContain("# TYPE gateway_provider_attempts_total");
    } finally {
      await Promise.all([worker.close(), sink.close()]);
    }
  });
});
