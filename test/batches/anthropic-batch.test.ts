import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../app/gateway.ts";
import { type AnthropicEmulator, startAnthropicEmulator } from "../emulators/anthropic.ts";
import { eventually } from "../support/eventually.ts";
import { busKinds, startTestGateway, testConfig, testKey } from "../support/gateway.ts";

const params = (content: string, model = "claude") => ({
  model,
  max_tokens: 64,
  messages: [{ role: "user" as const, content }],
});

/** Anthropic's Message Batches through the gateway, driven by the official client. */
describe.each(busKinds)("message batches on the %s bus", (bus) => {
  let emulator: AnthropicEmulator;
  let gateway: RunningGateway;
  let anthropic: Anthropic;

  beforeAll(async () => {
    emulator = await startAnthropicEmulator({ apiKey: "key" });
    gateway = await startTestGateway(
      testConfig(bus, {
        providers: [{ name: "a", type: "anthropic", options: { baseUrl: emulator.url, apiKey: "key" } }],
        models: [{ name: "claude", provider: "a", model: "claude-model" }],
        batches: { tickMs: 100 },
        workers: { concurrency: 8 },
      }),
    );
    anthropic = new Anthropic({ baseURL: gateway.url, apiKey: testKey, maxRetries: 0 });
  });
  afterAll(async () => {
    await gateway?.close();
    await emulator?.close();
  });

  const ended = async (id: string) => {
    let batch = await anthropic.messages.batches.retrieve(id);
    await eventually(async () => {
      batch = await anthropic.messages.batches.retrieve(id);
      expect(batch.processing_status).toBe("ended");
    }, 60_000);
    return batch;
  };

  it("runs a batch and streams its results, one per request, in Anthropic's shapes", async () => {
    const created = await anthropic.messages.batches.create({
      requests: [
        ...Array.from({ length: 50 }, (_, index) => ({
          custom_id: `q-${index}`,
          params: params(`question ${bus} ${index}`),
        })),
        { custom_id: "refused", params: params("[emulator:status=400] no") },
      ],
    });
    expect(created).toMatchObject({
      type: "message_batch",
      processing_status: "in_progress",
      results_url: null,
    });
    expect(created.id).toMatch(/^msgbatch_/);
    const batch = await ended(created.id);
    expect(batch.request_counts).toEqual({
      processing: 0,
      succeeded: 50,
      errored: 1,
      canceled: 0,
      expired: 0,
    });
    expect(batch.ended_at).not.toBeNull();
    const results = [];
    for await (const result of await anthropic.messages.batches.results(batch.id)) results.push(result);
    expect(results.map((result) => result.custom_id)).toEqual([
      ...Array.from({ length: 50 }, (_, index) => `q-${index}`),
      "refused",
    ]);
    for (const [index, result] of results.slice(0, 50).entries()) {
      expect(result.result.type).toBe("succeeded");
      if (result.result.type === "succeeded") {
        expect(result.result.message.type).toBe("message");
        expect(JSON.stringify(result.result.message.content)).toContain(`question ${bus} ${index}`);
      }
    }
    expect(results[50]?.result).toMatchObject({
      type: "errored",
      error: { type: "error", error: { type: "invalid_request_error" } },
    });
    const listed = [];
    for await (const item of anthropic.messages.batches.list()) listed.push(item.id);
    expect(listed).toContain(batch.id);
    // OpenAI's list is of OpenAI batches only.
    const openai = await fetch(`${gateway.url}/v1/batches`, {
      headers: { authorization: `Bearer ${testKey}` },
    });
    expect(
      ((await openai.json()) as { data: Array<{ id: string }> }).data.map((item) => item.id),
    ).not.toContain(batch.id);
  });

  it("refuses a batch with an invalid request, naming it as Anthropic does", async () => {
    const error = await anthropic.messages.batches
      .create({
        requests: [
          { custom_id: "fine", params: params("hi") },
          { custom_id: "broken", params: { model: "claude", max_tokens: 5 } as never },
        ],
      })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect((error as Error).message).toContain("requests.1.params.messages");
  });

  it("cancels a batch: the requests not yet run are reported canceled", async () => {
    const created = await anthropic.messages.batches.create({
      requests: Array.from({ length: 80 }, (_, index) => ({
        custom_id: `slow-${index}`,
        params: params(`slow ${bus} ${index} [emulator:latency=100]`),
      })),
    });
    await eventually(async () => {
      expect(
        (await anthropic.messages.batches.retrieve(created.id)).request_counts.succeeded,
      ).toBeGreaterThan(5);
    }, 30_000);
    const canceling = await anthropic.messages.batches.cancel(created.id);
    expect(["canceling", "ended"]).toContain(canceling.processing_status);
    const batch = await ended(created.id);
    const { succeeded, canceled } = batch.request_counts;
    expect(succeeded + canceled).toBe(80);
    expect(canceled).toBeGreaterThan(0);
    const types = new Map<string, number>();
    for await (const result of await anthropic.messages.batches.results(batch.id))
      types.set(result.result.type, (types.get(result.result.type) ?? 0) + 1);
    expect(Object.fromEntries(types)).toEqual({ succeeded, canceled });
  });
});
