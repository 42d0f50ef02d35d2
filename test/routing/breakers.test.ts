import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Redis } from "ioredis";
import { afterAll, describe, expect, inject, it } from "vitest";
import { connectRedis } from "../../runtime/redis.ts";
import { createInProcessBreakers } from "../../workers/routing/breakers/in-process.ts";
import { createRedisBreakers } from "../../workers/routing/breakers/redis.ts";
import type { BreakerSettings, BreakerStore } from "../../workers/routing/breakers/store.ts";

const settings: BreakerSettings = { failures: 3, windowMs: 2_000, cooldownMs: 300 };
const connections: Redis[] = [];
afterAll(() => Promise.all(connections.map((redis) => redis.quit())));

/**
 * Two stores stand for two worker processes: with Redis they are two connections sharing state;
 * in-process, one store is the whole (single-process) gateway, so both names point at it.
 */
const kinds: Array<[string, () => Promise<[BreakerStore, BreakerStore]>]> = [
  [
    "Redis",
    async () => {
      const keyPrefix = `test-breakers-${randomUUID().slice(0, 8)}:`;
      const config = { url: inject("services").redis.url, keyPrefix };
      const [a, b] = await Promise.all([connectRedis(config), connectRedis(config)]);
      connections.push(a, b);
      return [createRedisBreakers(a, settings), createRedisBreakers(b, settings)];
    },
  ],
  [
    "in-process",
    async () => {
      const store = createInProcessBreakers(settings);
      return [store, store];
    },
  ],
];

describe.each(kinds)("circuit breakers (%s)", (_kind, create) => {
  it("open after enough failures in the window, for every worker; half-open after the cooldown with one probe; a good probe closes", async () => {
    const [worker1, worker2] = await create();
    await worker1.failure("azure/gpt-4o");
    await worker2.failure("azure/gpt-4o");
    expect(await worker1.states(["azure/gpt-4o", "openai/gpt-4o"])).toEqual([
      { state: "closed" },
      { state: "closed" },
    ]);
    await worker2.failure("azure/gpt-4o");
    const [open] = await worker1.states(["azure/gpt-4o"]);
    expect(open).toMatchObject({ state: "open" });
    expect((open as { reopensInMs: number }).reopensInMs).toBeLessThanOrEqual(settings.cooldownMs);
    expect(await worker2.tryProbe("azure/gpt-4o")).toBe(false);

    await sleep(settings.cooldownMs + 20);
    expect(await worker2.states(["azure/gpt-4o"])).toEqual([{ state: "half_open" }]);
    // One probe at a time, whichever worker asks first.
    const probes = await Promise.all([worker1.tryProbe("azure/gpt-4o"), worker2.tryProbe("azure/gpt-4o")]);
    expect(probes.filter(Boolean)).toHaveLength(1);
    await worker1.probeSucceeded("azure/gpt-4o");
    expect(await worker2.states(["azure/gpt-4o"])).toEqual([{ state: "closed" }]);
  });

  it("reopens when the probe fails, and opens at once for as long as a provider's retry-after says", async () => {
    const [worker1, worker2] = await create();
    for (let failure = 0; failure < settings.failures; failure++) await worker1.failure("flaky");
    await sleep(settings.cooldownMs + 20);
    expect(await worker2.tryProbe("flaky")).toBe(true);
    await worker2.failure("flaky");
    expect(await worker1.states(["flaky"])).toEqual([{ state: "open", reopensInMs: expect.any(Number) }]);

    await worker1.failure("limited", 1_500);
    const [limited] = await worker2.states(["limited"]);
    expect(limited).toMatchObject({ state: "open" });
    expect((limited as { reopensInMs: number }).reopensInMs).toBeGreaterThan(settings.cooldownMs);
  });

  it("forgets failures older than the window", async () => {
    const [worker1] = await create();
    const quick = { ...settings };
    expect(quick.windowMs).toBeGreaterThan(0);
    await worker1.failure("slow-burn");
    await worker1.failure("slow-burn");
    await sleep(settings.windowMs + 50);
    await worker1.failure("slow-burn");
    expect(await worker1.states(["slow-burn"])).toEqual([{ state: "closed" }]);
  });
});
