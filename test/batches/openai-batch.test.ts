import OpenAI, { toFile } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../app/gateway.ts";
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

const otherKey = "batch-key-0123456789";

/** One JSONL line of OpenAI's batch input format. */
const chatLine = (customId: string, content: string, model = "chat") =>
  JSON.stringify({
    custom_id: customId,
    method: "POST",
    url: "/v1/chat/completions",
    body: { model, messages: [{ role: "user", content }] },
  });

const jsonl = (lines: string[]) => `${lines.join("\n")}\n`;

/** OpenAI's Batch and Files APIs through the gateway, driven by the official client. */
describe.each(busKinds)("batch jobs on the %s bus", (bus) => {
  let emulator: OpenAIEmulator;
  let gateway: RunningGateway;
  let openai: OpenAI;
  let config: ReturnType<typeof testConfig>;

  beforeAll(async () => {
    emulator = await startOpenAIEmulator({ apiKey: "key" });
    config = testConfig(bus, {
      providers: [{ name: "p", type: "openai", options: { baseUrl: emulator.url, apiKey: "key" } }],
      // The route says its provider bills batch-priority calls at half price (e.g. a flex tier).
      pricing: { prices: { p: { "chat-model": { input: 2, output: 8, batchDiscount: 0.5 } } } },
      models: [
        { name: "chat", provider: "p", model: "chat-model", batchDiscount: true },
        { name: "embed", provider: "p", model: "embedding-model" },
        { name: "cached", provider: "p", model: "cached-model", cache: { ttlSeconds: 60 } },
      ],
      batches: { completionWindows: ["24h", "3s"], tickMs: 100 },
      // Eight batch lines at a time (share 0.5), so that slow lines keep a batch running a while.
      workers: { concurrency: 16 },
    });
    gateway = await startTestGateway(config);
    openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: testKey, maxRetries: 0 });
  });
  afterAll(async () => {
    await gateway?.close();
    await emulator?.close();
  });

  const upload = async (content: string, name = "input.jsonl") =>
    openai.files.create({ file: await toFile(Buffer.from(content), name), purpose: "batch" });

  /** The batch once it has ended, polled as a client would. */
  const finished = async (id: string) => {
    let batch = await openai.batches.retrieve(id);
    await eventually(async () => {
      batch = await openai.batches.retrieve(id);
      expect(["completed", "expired", "cancelled", "failed"]).toContain(batch.status);
    }, 90_000);
    return batch;
  };

  const resultLines = async (fileId: string | null | undefined) =>
    fileId
      ? (await (await openai.files.content(fileId)).text())
          .trim()
          .split("\n")
          .map((line) => JSON.parse(line))
      : [];

  it("runs a 1,000-line batch end to end: each line answered once, results in input order", async () => {
    const prompts = Array.from({ length: 1000 }, (_, index) => `question ${bus} ${index}`);
    const file = await upload(jsonl(prompts.map((prompt, index) => chatLine(`req-${index}`, prompt))));
    expect(file).toMatchObject({
      object: "file",
      purpose: "batch",
      status: "processed",
      filename: "input.jsonl",
    });
    expect((await openai.files.retrieve(file.id)).bytes).toBe(file.bytes);

    const created = await openai.batches.create({
      input_file_id: file.id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
      metadata: { purpose: "eval" },
    });
    expect(created).toMatchObject({ object: "batch", status: "in_progress", metadata: { purpose: "eval" } });

    const batch = await finished(created.id);
    expect(batch.status).toBe("completed");
    expect(batch.request_counts).toEqual({ total: 1000, completed: 1000, failed: 0 });
    expect(batch.error_file_id).toBeNull();
    const output = await resultLines(batch.output_file_id);
    expect(output.map((line) => line.custom_id)).toEqual(prompts.map((_, index) => `req-${index}`));
    output.forEach((line, index) => {
      expect(line.error).toBeNull();
      expect(line.response.status_code).toBe(200);
      expect(line.response.body.object).toBe("chat.completion");
      expect(line.response.body.choices[0].message.content).toBe(`Echo: ${prompts[index]}`);
    });
    // Each line reached the provider exactly once.
    const calls = emulator.requests.filter((request) =>
      JSON.stringify(request.body).includes(`question ${bus} `),
    );
    expect(calls).toHaveLength(1000);
    expect(batch.usage?.input_tokens).toBeGreaterThan(0);
    expect(await openai.batches.list().then((page) => page.data.map((item) => item.id))).toContain(batch.id);

    // Analytics: every line's call and request carry the batch id; the lines are priced at the
    // batch discount — half of what the same call costs interactively.
    const interactive = await openai.chat.completions.create({
      model: "chat",
      messages: [{ role: "user", content: prompts[0] as string }],
    });
    await eventually(async () => {
      const [lines] = await queryAnalytics<{ calls: number; requests: number; first: string }>(
        config,
        `SELECT
           (SELECT count() FROM attempts WHERE batch_id = {id:String}) AS calls,
           (SELECT count() FROM requests FINAL WHERE batch_id = {id:String} AND stage = 'finished') AS requests,
           (SELECT toString(any(cost)) FROM attempts WHERE batch_id = {id:String} AND request_id = {line:UUID}) AS first`,
        { id: batch.id, line: output[0].response.request_id },
      );
      expect(lines).toMatchObject({ calls: 1000, requests: 1000 });
      const [single] = await queryAnalytics<{ cost: string }>(
        config,
        "SELECT toString(cost) AS cost FROM attempts WHERE request_id = {id:UUID}",
        { id: requestIdOf(interactive.id) },
      );
      expect(Number(single?.cost)).toBeGreaterThan(0);
      expect(Number(lines?.first)).toBeCloseTo(Number(single?.cost) / 2, 9);
    }, 30_000);
  }, 120_000);

  it("refuses a malformed input file, naming each line at fault", async () => {
    const content = jsonl([
      chatLine("ok-1", "fine"),
      "{not json",
      JSON.stringify({ method: "POST", url: "/v1/chat/completions", body: { model: "chat", messages: [] } }),
      chatLine("ok-1", "the same custom_id again"),
      JSON.stringify({ custom_id: "x", method: "POST", url: "/v1/images/generations", body: {} }),
      JSON.stringify({
        custom_id: "y",
        method: "POST",
        url: "/v1/chat/completions",
        body: { model: "chat" },
      }),
    ]);
    const error = await upload(content).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    const message = (error as Error).message;
    for (const fault of [
      "line 2: not valid JSON",
      "line 3: custom_id",
      'line 4: custom_id "ok-1" is used by an earlier line',
      "line 5: url /v1/images/generations",
      "line 6: body.messages",
    ])
      expect(message).toContain(fault);
    expect(message).not.toContain("line 1:");
  });

  it("fails a batch whose lines name a model the gateway does not serve, and refuses unknown windows", async () => {
    const file = await upload(jsonl([chatLine("a", "hi"), chatLine("b", "hi", "no-such-model")]));
    const batch = await openai.batches.create({
      input_file_id: file.id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
    });
    expect(batch.status).toBe("failed");
    expect(batch.errors?.data).toEqual([
      expect.objectContaining({ code: "model_not_found", line: 2, param: "body.model" }),
    ]);
    const refused = await openai.batches
      .create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "7d" as "24h" })
      .catch((caught: unknown) => caught);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
  });

  it("puts lines the provider refused in the error file, in OpenAI's shape", async () => {
    const file = await upload(
      jsonl([
        chatLine("good", "fine"),
        chatLine("bad", "[emulator:status=400] nope"),
        chatLine("good-2", "fine too"),
      ]),
    );
    const batch = await finished(
      (
        await openai.batches.create({
          input_file_id: file.id,
          endpoint: "/v1/chat/completions",
          completion_window: "24h",
        })
      ).id,
    );
    expect(batch.status).toBe("completed");
    expect(batch.request_counts).toEqual({ total: 3, completed: 2, failed: 1 });
    expect((await resultLines(batch.output_file_id)).map((line) => line.custom_id)).toEqual([
      "good",
      "good-2",
    ]);
    const [failed] = await resultLines(batch.error_file_id);
    expect(failed).toMatchObject({
      custom_id: "bad",
      error: null,
      response: { status_code: 400, body: { error: { type: "invalid_request_error" } } },
    });
  });

  it("keeps each key's files and batches to itself", async () => {
    const file = await upload(jsonl([chatLine("a", "mine")]));
    const other = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: otherKey, maxRetries: 0 });
    await expect(other.files.retrieve(file.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(other.files.content(file.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(
      other.batches.create({
        input_file_id: file.id,
        endpoint: "/v1/chat/completions",
        completion_window: "24h",
      }),
    ).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    expect(await openai.files.delete(file.id)).toEqual({ id: file.id, object: "file", deleted: true });
    await expect(openai.files.retrieve(file.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  /** Every input line is in exactly one of the two files. */
  const reportedOnce = async (batch: OpenAI.Batch, total: number) => {
    const output = await resultLines(batch.output_file_id);
    const errors = await resultLines(batch.error_file_id);
    const ids = [...output, ...errors].map((line) => line.custom_id).sort();
    expect(ids).toEqual(Array.from({ length: total }, (_, index) => `slow-${index}`).sort());
    return { output, errors };
  };
  const callsFor = (marker: string) =>
    emulator.requests.filter((request) => JSON.stringify(request.body).includes(marker)).length;

  it("cancels midway: no line starts after the cancel, the running ones finish and are reported", async () => {
    const marker = `cancel-${bus}`;
    const lines = Array.from({ length: 100 }, (_, index) =>
      chatLine(`slow-${index}`, `${marker} ${index} [emulator:latency=100]`),
    );
    const created = await openai.batches.create({
      input_file_id: (await upload(jsonl(lines))).id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
    });
    await eventually(async () => {
      const progress = await openai.batches.retrieve(created.id);
      expect(progress.request_counts?.completed).toBeGreaterThanOrEqual(10);
    }, 30_000);
    const cancelling = await openai.batches.cancel(created.id);
    expect(["cancelling", "cancelled"]).toContain(cancelling.status);
    const batch = await finished(created.id);
    expect(batch.status).toBe("cancelled");
    expect(batch.cancelled_at).toBeGreaterThan(0);
    const { output, errors } = await reportedOnce(batch, 100);
    expect(output.length).toBe(batch.request_counts?.completed);
    expect(output.length).toBeLessThan(100);
    expect(errors.every((line) => line.error.code === "batch_cancelled")).toBe(true);
    // Every call the provider got is in the output: nothing ran unreported, nothing runs after.
    expect(callsFor(marker)).toBe(output.length);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(callsFor(marker)).toBe(output.length);
    await expect(openai.batches.cancel(batch.id)).rejects.toMatchObject({ status: 409 });
  });

  it("expires at the end of its completion window: lines not done are reported as expired", async () => {
    const marker = `expire-${bus}`;
    const lines = Array.from({ length: 60 }, (_, index) =>
      chatLine(`slow-${index}`, `${marker} ${index} [emulator:latency=600]`),
    );
    const created = await openai.batches.create({
      input_file_id: (await upload(jsonl(lines))).id,
      endpoint: "/v1/chat/completions",
      completion_window: "3s" as "24h",
    });
    expect(created.expires_at).toBe(created.created_at + 3);
    const batch = await finished(created.id);
    expect(batch.status).toBe("expired");
    expect(batch.expired_at).toBeGreaterThanOrEqual(created.created_at + 3);
    const { output, errors } = await reportedOnce(batch, 60);
    expect(output.length).toBe(batch.request_counts?.completed);
    expect(output.length).toBeGreaterThan(0);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((line) => line.error.code === "batch_expired" && line.response === null)).toBe(true);
  });

  it("fails a batch whose input file is deleted while it runs, saying why", async () => {
    const lines = Array.from({ length: 40 }, (_, index) =>
      chatLine(`slow-${index}`, `deleted-${bus} ${index} [emulator:latency=200]`),
    );
    const file = await upload(jsonl(lines));
    const created = await openai.batches.create({
      input_file_id: file.id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
    });
    await openai.files.delete(file.id);
    const batch = await finished(created.id);
    expect(batch.status).toBe("failed");
    expect(batch.errors?.data?.[0]).toMatchObject({ code: "input_file_deleted", param: "input_file_id" });
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(metrics).toMatch(/gateway_batches_finished_total\{status="failed"\} [1-9]/);
    expect(metrics).toMatch(/gateway_batch_lines_stored_total\{outcome="succeeded"\} [1-9]/);
  });

  it("answers the lines of a cached route from the answer cache, and fills it", async () => {
    const marker = `cached-${bus}`;
    const content = jsonl(
      Array.from({ length: 20 }, (_, index) => chatLine(`c-${index}`, `${marker} ${index}`, "cached")),
    );
    const run = async () => {
      const file = await upload(content);
      const created = await openai.batches.create({
        input_file_id: file.id,
        endpoint: "/v1/chat/completions",
        completion_window: "24h",
      });
      const batch = await finished(created.id);
      expect(batch.request_counts).toEqual({ total: 20, completed: 20, failed: 0 });
      return (await resultLines(batch.output_file_id)).map(
        (line) => line.response.body.choices[0].message.content,
      );
    };
    const first = await run();
    const calls = emulator.requests.filter((request) => JSON.stringify(request.body).includes(marker)).length;
    expect(calls).toBe(20);
    // The same lines again: every answer comes from the cache, none from the provider.
    expect(await run()).toEqual(first);
    expect(emulator.requests.filter((request) => JSON.stringify(request.body).includes(marker))).toHaveLength(
      20,
    );
  });
});
