import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../app/gateway.ts";
import { FairQueue } from "../../workers/fair-queue.ts";
import { type OpenAIEmulator, startOpenAIEmulator } from "../emulators/openai.ts";
import { startTestGateway, testConfig, testKey } from "../support/gateway.ts";

describe("the fair queue of a priority", () => {
  it("serves the tenant served the fewest tokens lately next, each tenant's requests in order", () => {
    let now = 0;
    const queue = new FairQueue<{ tenant: string; id: string; tokens: number }>(
      (item) => item.tenant,
      (item) => item.tokens,
      10_000,
      () => now,
    );
    for (let index = 1; index <= 6; index++) queue.push({ tenant: "flood", id: `f${index}`, tokens: 100 });
    expect(queue.take()?.id).toBe("f1");
    queue.push({ tenant: "other", id: "o1", tokens: 250 });
    queue.push({ tenant: "other", id: "o2", tokens: 250 });
    // flood has 100 tokens served, other none: other goes next; then flood until it passes other's 250.
    const order = Array.from({ length: 7 }, () => queue.take()?.id);
    expect(order).toEqual(["o1", "f2", "f3", "o2", "f4", "f5", "f6"]);
    expect(queue.take()).toBeUndefined();

    // Served counts fade: after a long quiet spell both start even again.
    now += 600_000;
    queue.push({ tenant: "flood", id: "f7", tokens: 100 });
    queue.push({ tenant: "other", id: "o3", tokens: 100 });
    expect(queue.take()?.id).toBe("f7");
  });
});

describe("fairness between tenants of one priority, through the gateway", () => {
  let emulator: OpenAIEmulator;
  let gateway: RunningGateway;

  beforeAll(async () => {
    emulator = await startOpenAIEmulator({ apiKey: "key" });
    gateway = await startTestGateway(
      testConfig("in-process", {
        // One worker with four slots: a flood of slow calls saturates it and requests queue.
        workers: { concurrency: 4 },
        providers: [{ name: "slow", type: "openai", options: { baseUrl: emulator.url, apiKey: "key" } }],
        models: [{ name: "slow", provider: "slow" }],
      }),
    );
  });
  afterAll(async () => {
    await gateway.close();
    await emulator.close();
  });

  it("serves a second tenant's requests between a flooding tenant's, not after all of them", async () => {
    const client = (key: string) =>
      new OpenAI({
        baseURL: `${gateway.url}/v1`,
        apiKey: key,
        maxRetries: 0,
        defaultHeaders: { "x-gateway-priority": "interactive" },
      });
    const flooder = client(testKey);
    const other = client("batch-key-0123456789");
    const finished: string[] = [];
    const ask = (who: OpenAI, label: string) =>
      who.chat.completions
        .create({ model: "slow", messages: [{ role: "user", content: "hi [emulator:latency=200]" }] })
        .then(() => finished.push(label));
    const flood = Array.from({ length: 12 }, (_, index) => ask(flooder, `flood-${index}`));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const others = [ask(other, "other-0"), ask(other, "other-1")];
    await Promise.all([...flood, ...others]);
    // In arrival order the other tenant would finish after all twelve; served fairly, after the first round.
    const floodBeforeOther = finished.indexOf("other-1") - 1;
    expect(floodBeforeOther).toBeLessThan(8);
  });
});
