import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI, { toFile } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OpenAIEmulator, startOpenAIEmulator } from "../emulators/openai.ts";
import { eventually } from "../support/eventually.ts";
import { type BusKind, testKey, testSettings } from "../support/gateway.ts";
import { type GatewayProcess, spawnGateway } from "../support/processes.ts";

const lineCount = 300;

/**
 * A batch survives the death of every process that works on it. On Kafka: the ingress stays, the
 * worker and the coordinator are SIGKILLed midway and started anew. Embedded (in-process bus, files
 * on disk): the one process is SIGKILLed and started anew. Either way the batch completes with
 * every line reported exactly once.
 */
describe.each<{ bus: BusKind; client: "kafkajs" | "platformatic"; killed: string }>([
  { bus: "kafka", client: "kafkajs", killed: "a worker and the coordinator" },
  { bus: "kafka", client: "platformatic", killed: "a worker and the coordinator" },
  { bus: "in-process", client: "kafkajs", killed: "the embedded gateway" },
])("a batch on the $bus bus (kafka.client: $client) when $killed are killed midway", ({ bus, client }) => {
  let emulator: OpenAIEmulator;
  let settings: Record<string, unknown>;
  const processes: GatewayProcess[] = [];
  const start = async (role: Parameters<typeof spawnGateway>[1]) => {
    const started = await spawnGateway(settings, role);
    processes.push(started);
    return started;
  };

  beforeAll(async () => {
    emulator = await startOpenAIEmulator({ apiKey: "key" });
    settings = testSettings(bus, {
      log: { level: "info" },
      providers: [{ name: "p", type: "openai", options: { baseUrl: emulator.url, apiKey: "key" } }],
      models: [{ name: "chat", provider: "p", model: "chat-model" }],
      // Four batch lines at a time (share 0.5): the batch is still running when the kill comes.
      workers: { concurrency: 8, heartbeatMs: 500 },
      kafka: { sessionTimeoutMs: 6000, client },
      batches: { directory: mkdtempSync(join(tmpdir(), "gateway-batches-")), tickMs: 100, leaseMs: 2000 },
    });
  });
  afterAll(async () => {
    for (const running of processes) running.kill("SIGKILL");
    await emulator?.close();
  });

  it(`completes with each of its ${lineCount} lines reported once`, async () => {
    const marker = `restart-${bus}-${client}-${Date.now()}`;
    const edge = bus === "kafka" ? await start("ingress") : await start("all");
    const killed = bus === "kafka" ? await Promise.all([start("worker"), start("batch")]) : [edge];
    const openAIAt = (url: string) => new OpenAI({ baseURL: `${url}/v1`, apiKey: testKey, maxRetries: 2 });
    const content = Array.from({ length: lineCount }, (_, index) =>
      JSON.stringify({
        custom_id: `line-${index}`,
        method: "POST",
        url: "/v1/chat/completions",
        body: {
          model: "chat",
          messages: [{ role: "user", content: `${marker} ${index} [emulator:latency=40]` }],
        },
      }),
    ).join("\n");
    const openai = openAIAt(edge.url);
    const file = await openai.files.create({
      file: await toFile(Buffer.from(content), "in.jsonl"),
      purpose: "batch",
    });
    const { id } = await openai.batches.create({
      input_file_id: file.id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
    });
    await eventually(async () => {
      expect((await openai.batches.retrieve(id)).request_counts?.completed).toBeGreaterThanOrEqual(60);
    }, 60_000);

    for (const running of killed) running.kill("SIGKILL");
    await Promise.all(killed.map((running) => running.exited));
    const callsAtKill = calls(marker).length;
    expect(callsAtKill).toBeLessThan(lineCount);

    const restarted =
      bus === "kafka" ? (await Promise.all([start("worker"), start("batch")]))[0] : await start("all");
    const after = openAIAt(bus === "kafka" ? edge.url : restarted.url);
    let batch = await after.batches.retrieve(id);
    await eventually(async () => {
      batch = await after.batches.retrieve(id);
      expect(batch.status).toBe("completed");
    }, 120_000);

    expect(batch.request_counts).toEqual({ total: lineCount, completed: lineCount, failed: 0 });
    const output = (await (await after.files.content(batch.output_file_id as string)).text())
      .trim()
      .split("\n");
    const lines = output.map((line) => JSON.parse(line));
    expect(lines.map((line) => line.custom_id)).toEqual(
      Array.from({ length: lineCount }, (_, index) => `line-${index}`),
    );
    for (const [index, line] of lines.entries())
      expect(line.response.body.choices[0].message.content).toBe(`Echo: ${marker} ${index}`);
    // Every line reached the provider; again only if the kill cut it (Kafka: the ones running then),
    // or, in process, if it was queued in the memory of the process that died.
    const perLine = new Map<string, number>();
    for (const prompt of calls(marker)) perLine.set(prompt, (perLine.get(prompt) ?? 0) + 1);
    expect(perLine.size).toBe(lineCount);
    const repeated = [...perLine.values()].filter((count) => count > 1).length;
    if (bus === "kafka") expect(repeated).toBeLessThanOrEqual(4);
    else expect(repeated).toBeLessThanOrEqual(lineCount - 60);
  }, 300_000);

  /** The prompts of the provider calls made for this test's batch. */
  function calls(marker: string): string[] {
    return emulator.requests
      .map(
        (request) => (request.body as { messages?: Array<{ content: string }> }).messages?.[0]?.content ?? "",
      )
      .filter((prompt) => prompt.startsWith(marker));
  }
});
