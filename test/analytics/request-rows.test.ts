import { randomUUID } from "node:crypto";
import OpenAI from "openai";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { RunningGateway } from "../../app/gateway.ts";
import { type ConnectedBus, connectBus } from "../../bus/connect.ts";
import type { GatewayConfig } from "../../config/schema.ts";
import type { AttemptEventInput } from "../../schemas/attempt-event.ts";
import type { RequestEventInput } from "../../schemas/request-event.ts";
import { type OpenAIEmulator, startOpenAIEmulator } from "../emulators/openai.ts";
import { eventually } from "../support/eventually.ts";
import { queryAnalytics, requestIdOf, startTestGateway, testConfig, testKey } from "../support/gateway.ts";

/** What a request row measures beyond tokens: output speed and the sizes of what went each way. */
describe("request rows in analytics", () => {
  let emulator: OpenAIEmulator;
  let gateway: RunningGateway;
  let config: GatewayConfig;

  beforeAll(async () => {
    emulator = await startOpenAIEmulator({ apiKey: "k" });
    config = testConfig("in-process", {
      providers: [{ name: "p", type: "openai", options: { baseUrl: emulator.url, apiKey: "k" } }],
      models: [{ name: "m", provider: "p" }],
    });
    gateway = await startTestGateway(config);
  });
  afterAll(async () => {
    await gateway.close();
    await emulator.close();
  });

  it("is the output tokens over the time after the first one: at most the emulator's pace of a chunk per 40 ms", async () => {
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: testKey, maxRetries: 0 });
    const stream = await openai.chat.completions.create({
      model: "m",
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: "one two three four five six seven eight [emulator:delay=40]" }],
    });
    let id = "";
    let output = 0;
    for await (const chunk of stream) {
      id = chunk.id;
      output = chunk.usage?.completion_tokens ?? output;
    }
    await eventually(async () => {
      const rows = await queryAnalytics<{ source: string; speed: number | null; span_ms: number }>(
        config,
        `SELECT 'attempt' AS source, output_tokens_per_second AS speed,
                dateDiff('millisecond', first_token_at, finished_at) AS span_ms
         FROM attempts WHERE request_id = {id:UUID}
         UNION ALL
         SELECT 'request', output_tokens_per_second, dateDiff('millisecond', first_token_at, finished_at)
         FROM requests FINAL WHERE request_id = {id:UUID} AND stage = 'finished'`,
        { id: requestIdOf(id) },
      );
      expect(rows.map((row) => row.source).sort()).toEqual(["attempt", "request"]);
      for (const row of rows) {
        expect(row.speed).toBeCloseTo((output * 1000) / Number(row.span_ms), 6);
        // Eight more chunks at 40 ms each: at least ~280 ms after the first token.
        expect(Number(row.span_ms)).toBeGreaterThanOrEqual(250);
        expect(row.speed).toBeLessThan((output * 1000) / 250);
      }
    });
  });

  const sizes = async (id: string) => {
    let row: { request_bytes: number; response_bytes: number } | undefined;
    await eventually(async () => {
      [row] = await queryAnalytics<{ request_bytes: number; response_bytes: number }>(
        config,
        "SELECT request_bytes, response_bytes FROM requests FINAL WHERE request_id = {id:UUID} AND stage = 'finished'",
        { id },
      );
      expect(row).toBeDefined();
    });
    return { request: Number(row?.request_bytes), response: Number(row?.response_bytes) };
  };

  it("records the bytes of the request and of the answer sent over HTTP, headers included", async () => {
    const body = JSON.stringify({ model: "m", messages: [{ role: "user", content: "size me up" }] });
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${testKey}` },
      body,
    });
    const text = await response.text();
    const headerBytes = [...response.headers].reduce(
      (sum, [name, value]) => sum + name.length + value.length + 4,
      0,
    );
    const { request, response: sent } = await sizes(requestIdOf((JSON.parse(text) as { id: string }).id));
    expect(request).toBe(Buffer.byteLength(body));
    // Status line and header order are the server's own; every header byte and the body are counted.
    expect(sent).toBeGreaterThanOrEqual(Buffer.byteLength(text) + headerBytes);
    expect(sent).toBeLessThan(Buffer.byteLength(text) + headerBytes + 64);
  });

  it("counts exactly the WebSocket messages a request was sent", async () => {
    const socket = new WebSocket(`${gateway.url.replace("http", "ws")}/v1/ws`, {
      headers: { authorization: `Bearer ${testKey}` },
    });
    await new Promise((resolve) => socket.once("open", resolve));
    const message = JSON.stringify({
      type: "request",
      id: "r1",
      api: "openai_chat",
      body: { model: "m", messages: [{ role: "user", content: "count my frames" }] },
    });
    let received = 0;
    let answerId = "";
    await new Promise<void>((resolve) => {
      socket.on("message", (data: Buffer) => {
        received += data.length;
        const parsed = JSON.parse(data.toString()) as { type: string; data?: { id?: string } };
        if (parsed.type === "chunk") answerId ||= parsed.data?.id ?? "";
        if (parsed.type === "done" || parsed.type === "error") resolve();
      });
      socket.send(message);
    });
    socket.close();
    expect(await sizes(requestIdOf(answerId))).toEqual({
      request: Buffer.byteLength(message),
      response: received,
    });
  });
});

/**
 * The batch job a request is a line of, as its events carry it (AttemptEvent v5, RequestEvent v2):
 * published on Kafka and landed by a real sink, so the Avro field and the row mapping are both
 * crossed; a request of no batch lands with ''.
 */
describe("batch ids in analytics rows", () => {
  let config: GatewayConfig;
  let bus: ConnectedBus;
  let sink: RunningGateway;

  beforeAll(async () => {
    config = testConfig("kafka", { analytics: { sink: { maxWaitMs: 100 } } });
    bus = await connectBus(config, pino({ level: "silent" }));
    sink = await startTestGateway(config, "sink");
  });
  afterAll(async () => {
    await sink?.close();
    await bus?.close();
  });

  const publish = async (batchId: string | undefined) => {
    const requestId = randomUUID();
    const now = Date.now();
    const request: RequestEventInput = {
      requestId,
      stage: "finished",
      ingressId: "coordinator",
      receivedAtMs: now - 50,
      finishedAtMs: now,
      priority: "batch",
      inboundApi: "openai-chat",
      stream: false,
      keyId: "batch-rows",
      modelRequested: "m",
      outcome: "completed",
      status: 200,
      ...(batchId === undefined ? {} : { batchId }),
    };
    const attempt: AttemptEventInput = {
      requestId,
      attempt: "w:1.0",
      workerId: "w",
      receivedAtMs: now - 50,
      startedAtMs: now - 40,
      finishedAtMs: now,
      priority: "batch",
      inboundApi: "openai-chat",
      stream: false,
      keyId: "batch-rows",
      modelRequested: "m",
      outcome: "completed",
      status: 200,
      usage: { inputTokens: 1, outputTokens: 1 },
      usageEstimated: false,
      ...(batchId === undefined ? {} : { batchId }),
    };
    await Promise.all([
      bus.events.publishRequest({ ...request, stage: "received", finishedAtMs: null, outcome: "unknown" }),
      bus.events.publishRequest(request),
      bus.events.publishAttempt(attempt),
    ]);
    return requestId;
  };

  it("lands with its batch's id in requests and attempts, and with '' when it is no batch's", async () => {
    const batchId = `batch_${randomUUID().replaceAll("-", "")}`;
    const inBatch = await publish(batchId);
    const alone = await publish(undefined);
    await eventually(async () => {
      const rows = await queryAnalytics<{ source: string; request_id: string; batch_id: string }>(
        config,
        `SELECT 'attempt' AS source, request_id, batch_id FROM attempts WHERE request_id IN {ids:Array(UUID)}
         UNION ALL
         SELECT toString(stage), request_id, batch_id FROM requests FINAL WHERE request_id IN {ids:Array(UUID)}`,
        { ids: [inBatch, alone] },
      );
      const sorted = rows
        .map((row) => `${row.request_id === inBatch ? "batch line" : "alone"} ${row.source} ${row.batch_id}`)
        .sort();
      expect(sorted).toEqual([
        "alone attempt ",
        "alone finished ",
        `batch line attempt ${batchId}`,
        `batch line finished ${batchId}`,
      ]);
    }, 20_000);
  });
});
