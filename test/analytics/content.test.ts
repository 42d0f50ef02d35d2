import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../app/gateway.ts";
import type { GatewayConfig } from "../../config/schema.ts";
import { type OpenAIEmulator, startOpenAIEmulator } from "../emulators/openai.ts";
import { eventually } from "../support/eventually.ts";
import { queryAnalytics, requestIdOf, startTestGateway, testConfig, testKey } from "../support/gateway.ts";

const adminKey = "admin-key-0123456789";
const card = "4111 1111 1111 1111";

/** Prompt and completion text are stored only when the operator asks, redacted before they leave the ingress. */
describe("prompts and completions in analytics", () => {
  let emulator: OpenAIEmulator;
  const gateways: RunningGateway[] = [];

  beforeAll(async () => {
    emulator = await startOpenAIEmulator({ apiKey: "k" });
  });
  afterAll(async () => {
    await Promise.all(gateways.map((gateway) => gateway.close()));
    await emulator.close();
  });

  const start = async (content: Record<string, unknown>) => {
    const config = testConfig("in-process", {
      auth: { keys: [testKey, { key: adminKey, name: "ops", admin: true }] },
      providers: [{ name: "p", type: "openai", options: { baseUrl: emulator.url, apiKey: "k" } }],
      models: [{ name: "m", provider: "p" }],
      analytics: { content },
    });
    const gateway = await startTestGateway(config);
    gateways.push(gateway);
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: testKey, maxRetries: 0 });
    const answer = await openai.chat.completions.create({
      model: "m",
      messages: [{ role: "user", content: `my card is ${card}, remember it` }],
    });
    return { config, gateway, id: requestIdOf(answer.id), text: answer.choices[0]?.message.content ?? "" };
  };
  const stored = async (config: GatewayConfig, id: string) => {
    let row: { prompt: string; completion: string } | undefined;
    await eventually(async () => {
      [row] = await queryAnalytics<{ prompt: string; completion: string }>(
        config,
        "SELECT prompt, completion FROM requests FINAL WHERE request_id = {id:UUID} AND stage = 'finished'",
        { id },
      );
      expect(row).toBeDefined();
    });
    return row as { prompt: string; completion: string };
  };

  it("stores none by default", async () => {
    const { config, id } = await start({});
    expect(await stored(config, id)).toEqual({ prompt: "", completion: "" });
  });

  it("stores them redacted when asked, and erases them on an admin's request", async () => {
    const { config, gateway, id, text } = await start({ store: true, redact: ["\\b(?:\\d[ -]?){13,16}\\b"] });
    expect(text).toContain(card); // the caller's own answer is untouched
    const row = await stored(config, id);
    expect(JSON.parse(row.prompt)).toEqual([
      expect.objectContaining({
        role: "user",
        content: [expect.objectContaining({ text: "my card is [REDACTED], remember it" })],
      }),
    ]);
    expect(row.completion).toBe(text.replace(card, "[REDACTED]"));
    expect(row.prompt + row.completion).not.toContain("1111");

    const erase = await fetch(`${gateway.url}/admin/analytics/redact`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${adminKey}` },
      body: JSON.stringify({ requestId: id }),
    });
    expect(erase.status).toBe(200);
    expect(await stored(config, id)).toEqual({ prompt: "[REDACTED]", completion: "[REDACTED]" });
  });

  it("refuses a pattern that is not a regular expression, naming it", () => {
    expect(() => testConfig("in-process", { analytics: { content: { redact: ["(unclosed"] } } })).toThrow(
      /analytics\.content\.redact\.0: not a regular expression/,
    );
  });
});
