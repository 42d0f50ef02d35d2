import OpenAI, { toFile } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../app/gateway.ts";
import { type OpenAIEmulator, startOpenAIEmulator } from "../emulators/openai.ts";
import { adminApi } from "../support/admin.ts";
import { eventually } from "../support/eventually.ts";
import { busKinds, startTestGateway, testConfig } from "../support/gateway.ts";

const line = (customId: string, content: string, model = "chat") =>
  JSON.stringify({
    custom_id: customId,
    method: "POST",
    url: "/v1/chat/completions",
    body: { model, max_tokens: 100, messages: [{ role: "user", content }] },
  });

/** A virtual key's batch is governed line by line, as its calls are. */
describe.each(busKinds)("batch lines of a virtual key on the %s bus", (bus) => {
  let emulator: OpenAIEmulator;
  let gateway: RunningGateway;

  const adminCall = adminApi(() => gateway.url);
  const newKey = async (settings: Record<string, unknown>) =>
    (await adminCall("POST", "/admin/keys", { team: `batch-${bus}`, ...settings })).body.key;
  const client = (key: string) => new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key, maxRetries: 0 });
  const submit = async (openai: OpenAI, lines: string[]) => {
    const file = await openai.files.create({
      file: await toFile(Buffer.from(`${lines.join("\n")}\n`), "input.jsonl"),
      purpose: "batch",
    });
    return openai.batches.create({
      input_file_id: file.id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
    });
  };
  const finished = async (openai: OpenAI, id: string) => {
    let batch = await openai.batches.retrieve(id);
    await eventually(async () => {
      batch = await openai.batches.retrieve(id);
      expect(["completed", "failed", "expired", "cancelled"]).toContain(batch.status);
    }, 60_000);
    return batch;
  };
  const results = async (openai: OpenAI, fileId: string | null | undefined) =>
    fileId
      ? (await (await openai.files.content(fileId)).text())
          .trim()
          .split("\n")
          .map((text) => JSON.parse(text))
      : [];

  beforeAll(async () => {
    emulator = await startOpenAIEmulator({ apiKey: "key" });
    gateway = await startTestGateway(
      testConfig(bus, {
        providers: [{ name: "p", type: "openai", options: { baseUrl: emulator.url, apiKey: "key" } }],
        // $1,000 per million output tokens: a line with max_tokens 100 may cost $0.10.
        pricing: { prices: { p: { "chat-model": { input: 0, output: 1000 } } } },
        models: [
          { name: "chat", provider: "p", model: "chat-model" },
          { name: "other", provider: "p", model: "chat-model" },
        ],
        batches: { tickMs: 100 },
      }),
    );
    await adminCall("POST", "/admin/teams", { id: `batch-${bus}` });
  });
  afterAll(async () => {
    await gateway?.close();
    await emulator?.close();
  });

  it("holds each line against the key's budget: lines it cannot cover fail, never reach a provider", async () => {
    const key = await newKey({ budget: { totalUsd: 0.25 } });
    const openai = client(key);
    const before = emulator.requests.length;
    const batch = await finished(
      openai,
      (
        await submit(
          openai,
          Array.from({ length: 6 }, (_, index) =>
            line(`l-${index}`, `[emulator:latency=1000] line ${index}`),
          ),
        )
      ).id,
    );
    expect(batch.request_counts).toEqual({ total: 6, completed: 2, failed: 4 });
    expect(emulator.requests.length - before).toBe(2);
    const errors = await results(openai, batch.error_file_id);
    expect(errors).toHaveLength(4);
    for (const error of errors) expect(JSON.stringify(error)).toContain("budget");
  });

  it("refuses a key without the batches API, and lines of models the key may not call", async () => {
    const chatOnly = client(await newKey({ apis: ["chat"] }));
    await expect(
      chatOnly.files.create({
        file: await toFile(Buffer.from(`${line("a", "hi")}\n`), "in.jsonl"),
        purpose: "batch",
      }),
    ).rejects.toMatchObject({ status: 403 });

    const narrow = client(await newKey({ models: ["chat"] }));
    const batch = await submit(narrow, [line("ok", "hi"), line("no", "hi", "other")]);
    expect(batch.status).toBe("failed");
    expect(batch.errors?.data?.[0]).toMatchObject({ code: "model_not_permitted", line: 2 });
  });
});
