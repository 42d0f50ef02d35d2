import OpenAI, { toFile } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../app/gateway.ts";
import { type OpenAIEmulator, startOpenAIEmulator } from "../emulators/openai.ts";
import { eventually } from "../support/eventually.ts";
import { busKinds, startTestGateway, testConfig, testKey } from "../support/gateway.ts";

/**
 * Batch lines use the capacity interactive calls leave: a deployment allowing 4 calls at once
 * gives a batch at most half of them (routing.batchQuotaShare), so interactive calls made while
 * the batch runs find room at once; and the batch lines waiting for room wait, they do not fail.
 */
describe.each(busKinds)("a batch beside interactive calls on the %s bus", (bus) => {
  let emulator: OpenAIEmulator;
  let gateway: RunningGateway;
  let openai: OpenAI;

  beforeAll(async () => {
    emulator = await startOpenAIEmulator({ apiKey: "key" });
    gateway = await startTestGateway(
      testConfig(bus, {
        providers: [{ name: "p", type: "openai", options: { baseUrl: emulator.url, apiKey: "key" } }],
        models: [
          {
            name: "chat",
            deployments: [{ provider: "p", model: "chat-model", limits: { concurrency: 4 } }],
          },
        ],
        routing: { batchQuotaShare: 0.5 },
        batches: { tickMs: 100 },
      }),
    );
    openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: testKey, maxRetries: 0 });
  });
  afterAll(async () => {
    await gateway?.close();
    await emulator?.close();
  });

  it("keeps half of a deployment's concurrency for interactive calls, and runs every line", async () => {
    const lines = Array.from({ length: 30 }, (_, index) =>
      JSON.stringify({
        custom_id: `line-${index}`,
        method: "POST",
        url: "/v1/chat/completions",
        body: {
          model: "chat",
          messages: [{ role: "user", content: `spare-${bus} ${index} [emulator:latency=150]` }],
        },
      }),
    );
    const file = await openai.files.create({
      file: await toFile(Buffer.from(lines.join("\n")), "in.jsonl"),
      purpose: "batch",
    });
    const { id } = await openai.batches.create({
      input_file_id: file.id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
    });
    await eventually(async () => {
      expect((await openai.batches.retrieve(id)).request_counts?.completed).toBeGreaterThanOrEqual(2);
    }, 30_000);

    // The batch holds its two calls; two interactive calls at once still get the other two.
    const answers = await Promise.all(
      [1, 2].map((index) =>
        openai.chat.completions.create({
          model: "chat",
          messages: [{ role: "user", content: `interactive-${bus} ${index}` }],
        }),
      ),
    );
    expect(answers.map((answer) => answer.choices[0]?.message.content)).toEqual([
      `Echo: interactive-${bus} 1`,
      `Echo: interactive-${bus} 2`,
    ]);

    let batch = await openai.batches.retrieve(id);
    await eventually(async () => {
      batch = await openai.batches.retrieve(id);
      expect(batch.status).toBe("completed");
    }, 60_000);
    // No line failed for want of room: they waited for it.
    expect(batch.request_counts).toEqual({ total: 30, completed: 30, failed: 0 });
    // Never more than two batch calls at once at the provider.
    expect(maxOverlap(emulator, `spare-${bus}`)).toBeLessThanOrEqual(2);
  });
});

/**
 * The most calls whose prompt has `marker` that started within 140 ms of each other. Each lasts
 * at least 150 ms (its latency), so calls starting that close together were running at once.
 */
function maxOverlap(emulator: OpenAIEmulator, marker: string): number {
  const starts = emulator.requests
    .filter((request) => JSON.stringify(request.body).includes(marker))
    .map((request) => request.receivedAtMs);
  return Math.max(
    0,
    ...starts.map((start) => starts.filter((other) => other >= start && other < start + 140).length),
  );
}
