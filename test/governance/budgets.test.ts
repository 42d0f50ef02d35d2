import { createHmac } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../app/gateway.ts";
import type { GatewayConfig } from "../../config/schema.ts";
import { type OpenAIEmulator, startOpenAIEmulator } from "../emulators/openai.ts";
import { adminApi } from "../support/admin.ts";
import { eventually } from "../support/eventually.ts";
import { busKinds, queryAnalytics, startTestGateway, testConfig } from "../support/gateway.ts";

/**
 * Output costs $1,000 per million tokens: a call with max_tokens 100 may cost $0.10, so a budget
 * of $0.25 has room to hold two such calls and never three.
 */
const price = { input: 0, output: 1000 };
const webhookSecret = "whsec-test-0123456789";

interface Received {
  body: Record<string, unknown>;
  signature: string;
  raw: string;
}

/** A webhook receiver: every POST it got, with its signature header. */
async function startWebhook(): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((request, response) => {
    let raw = "";
    request.on("data", (chunk) => {
      raw += chunk;
    });
    request.on("end", () => {
      received.push({
        body: JSON.parse(raw),
        signature: String(request.headers["x-gateway-signature"]),
        raw,
      });
      response.end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe.each(busKinds)("budgets on the %s bus", (bus) => {
  let emulator: OpenAIEmulator;
  let gateway: RunningGateway;
  let config: GatewayConfig;
  let webhook: Awaited<ReturnType<typeof startWebhook>>;

  const adminCall = adminApi(() => gateway.url);
  const admin = async (...call: Parameters<typeof adminCall>) => (await adminCall(...call)).body;
  const client = (key: string) => new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key, maxRetries: 0 });
  /** Settles each call: fulfilled with the answer, or rejected with the API error. */
  const callsAtOnce = (count: number, call: (index: number) => Promise<unknown>) =>
    Promise.allSettled(Array.from({ length: count }, (_, index) => call(index)));

  beforeAll(async () => {
    emulator = await startOpenAIEmulator({ apiKey: "key" });
    webhook = await startWebhook();
    config = testConfig(bus, {
      providers: [{ name: "p", type: "openai", options: { baseUrl: emulator.url, apiKey: "key" } }],
      pricing: { prices: { p: { "chat-model": price } } },
      models: [
        { name: "chat", provider: "p", model: "chat-model" },
        { name: "unpriced", provider: "p", model: "model-without-a-price" },
      ],
      governance: { alertWebhookUrl: webhook.url, alertWebhookSecret: webhookSecret },
    });
    gateway = await startTestGateway(config);
  });
  afterAll(async () => {
    await gateway?.close();
    await emulator?.close();
    await webhook?.close();
  });

  it("admits at most 2 of 50 concurrent calls against a budget that allows 2", async () => {
    await admin("POST", "/admin/teams", { id: `t50-${bus}` });
    const { key, id } = await admin("POST", "/admin/keys", {
      team: `t50-${bus}`,
      budget: { totalUsd: 0.25 },
    });
    const before = emulator.requests.length;
    const results = await callsAtOnce(50, (index) =>
      client(key).chat.completions.create({
        model: "chat",
        max_tokens: 100,
        messages: [{ role: "user", content: `[emulator:latency=1500] call ${index}` }],
      }),
    );
    const admitted = results.filter((result) => result.status === "fulfilled");
    expect(admitted).toHaveLength(2);
    expect(emulator.requests.length - before).toBe(2);
    for (const result of results.filter((result) => result.status === "rejected"))
      expect((result as PromiseRejectedResult).reason).toMatchObject({
        status: 429,
        code: "insufficient_quota",
      });

    // Settled at what the two calls cost (a few words each), nothing left held.
    type Spend = Record<"day" | "month" | "total", { spentUsd: number; heldUsd: number }>;
    await eventually(async () => {
      const now = (await admin("GET", `/admin/keys/${id}`)).spend as Spend;
      expect(now.total.heldUsd).toBe(0);
      expect(now.total.spentUsd).toBeGreaterThan(0);
      expect(now.total.spentUsd).toBeLessThan(0.2);
      expect(now.day.spentUsd).toBe(now.total.spentUsd);
    });
  });

  it("counts streams and a team's keys together", async () => {
    await admin("POST", "/admin/teams", { id: `ts-${bus}`, budget: { dailyUsd: 0.25 } });
    const one = await admin("POST", "/admin/keys", { team: `ts-${bus}` });
    const two = await admin("POST", "/admin/keys", { team: `ts-${bus}` });
    const before = emulator.requests.length;
    const results = await callsAtOnce(20, async (index) => {
      const stream = await client(index % 2 ? one.key : two.key).chat.completions.create({
        model: "chat",
        max_tokens: 100,
        stream: true,
        messages: [{ role: "user", content: `[emulator:latency=1500] stream ${index}` }],
      });
      for await (const _chunk of stream);
    });
    expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(2);
    expect(emulator.requests.length - before).toBe(2);
  });

  it("raises one signed alert when spend crosses the soft limit", async () => {
    await admin("POST", "/admin/teams", { id: `ta-${bus}` });
    // Each call costs about $0.003 (a few words at $0.001); 50% of $0.01 is crossed within a few calls.
    const { key, id } = await admin("POST", "/admin/keys", {
      team: `ta-${bus}`,
      budget: { monthlyUsd: 0.01, softLimitPercent: 50 },
    });
    for (let call = 0; call < 4; call++)
      await client(key)
        .chat.completions.create({
          model: "chat",
          max_tokens: 1,
          messages: [{ role: "user", content: "one two three" }],
        })
        .catch(() => undefined);
    await eventually(() => expect(webhook.received.filter((alert) => alert.body.id === id)).toHaveLength(1));
    const [alert] = webhook.received.filter((entry) => entry.body.id === id) as [Received];
    expect(alert.body).toMatchObject({
      type: "budget.soft_limit",
      scope: "key",
      period: "month",
      percent: 50,
      limit_usd: 0.01,
    });
    const [t, v1] = alert.signature.split(",").map((part) => part.split("=")[1]) as [string, string];
    expect(createHmac("sha256", webhookSecret).update(`${t}.${alert.raw}`).digest("hex")).toBe(v1);
    // The alert is also an event, in the audit log.
    await eventually(async () => {
      const rows = await queryAnalytics<Record<string, string>>(
        config,
        "SELECT actor_kind, outcome, details['period'] AS period FROM audit_log WHERE action = 'budget.alert' AND target = {target:String}",
        { target: `key:${id}` },
      );
      expect(rows).toEqual([{ actor_kind: "system", outcome: "allowed", period: "month" }]);
    }, 20_000);
  });

  it("refuses a budgeted key a model without a price", async () => {
    await admin("POST", "/admin/teams", { id: `tp-${bus}`, budget: { totalUsd: 1 } });
    const { key } = await admin("POST", "/admin/keys", { team: `tp-${bus}` });
    await expect(
      client(key).chat.completions.create({ model: "unpriced", messages: [{ role: "user", content: "hi" }] }),
    ).rejects.toMatchObject({ status: 403, message: expect.stringContaining("no price") });
  });
});
