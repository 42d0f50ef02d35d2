import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Redis } from "ioredis";
import { afterAll, describe, expect, inject, it } from "vitest";
import { connectRedis } from "../../runtime/redis.ts";
import { createInProcessBreakers } from "../../workers/routing/breakers/in-process.ts";
import { createRedisBreakers } from "../../workers/routing/breakers/redis.ts";
import type { BreakerSettings, BreakerStore } from "../../workers/routing/breakers/store.ts";

const settings: BreakerSettings = { breakerFailures: 3, breakerWindowMs: 2_000, breakerCooldownMs: 300 };
/** A route that tolerates less: one failure opens, for longer. */
const touchy: BreakerSettings = { breakerFailures: 1, breakerWindowMs: 2_000, breakerCooldownMs: 5_000 };
/** A route counting failures over a longer window: the stores keep failures that long. */
const patient: BreakerSettings = { breakerFailures: 3, breakerWindowMs: 6_000, breakerCooldownMs: 300 };
const retentionMs = patient.breakerWindowMs;
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
      return [createRedisBreakers(a, retentionMs), createRedisBreakers(b, retentionMs)];
    },
  ],
  [
    "in-process",
    async () => {
      const store = createInProcessBreakers(retentionMs);
      return [store, store];
    },
  ],
];

describe.each(kinds)("circuit breakers (%s)", (_kind, create) => {
  it("open after enough failures in the window, for every worker; half-open after the cooldown with one probe; a good probe closes", async () => {
    const [worker1, worker2] = await create();
    await worker1.failure("azure/gpt-4o", settings);
    await worker2.failure("azure/gpt-4o", settings);
    expect(await worker1.states(["azure/gpt-4o", "openai/gpt-4o"])).toEqual([
      { state: "closed" },
      { state: "closed" },
    ]);
    await worker2.failure("azure/gpt-4o", settings);
    const [open] = await worker1.states(["azure/gpt-4o"]);
    expect(open).toMatchObject({ state: "open" });
    expect((open as { reopensInMs: number }).reopensInMs).toBeLessThanOrEqual(settings.breakerCooldownMs);
    expect(await worker2.tryProbe("azure/gpt-4o", settings)).toBe(false);

    await sleep(settings.breakerCooldownMs + 20);
    expect(await worker2.states(["azure/gpt-4o"])).toEqual([{ state: "half_open" }]);
    // One probe at a time, whichever worker asks first.
    const probes = await Promise.all([
      worker1.tryProbe("azure/gpt-4o", settings),
      worker2.tryProbe("azure/gpt-4o", settings),
    ]);
    expect(probes.filter(Boolean)).toHaveLength(1);
    await worker1.probeSucceeded("azure/gpt-4o");
    expect(await worker2.states(["azure/gpt-4o"])).toEqual([{ state: "closed" }]);
  });

  it("reopens when the probe fails, and opens at once for as long as a provider's retry-after says", async () => {
    const [worker1, worker2] = await create();
    for (let failure = 0; failure < settings.breakerFailures; failure++)
      await worker1.failure("flaky", settings);
    await sleep(settings.breakerCooldownMs + 20);
    expect(await worker2.tryProbe("flaky", settings)).toBe(true);
    await worker2.failure("flaky", settings);
    expect(await worker1.states(["flaky"])).toEqual([{ state: "open", reopensInMs: expect.any(Number) }]);

    await worker1.failure("limited", settings, 1_500);
    const [limited] = await worker2.states(["limited"]);
    expect(limited).toMatchObject({ state: "open" });
    expect((limited as { reopensInMs: number }).reopensInMs).toBeGreaterThan(settings.breakerCooldownMs);
  });

  it("forgets failures older than the window", async () => {
    const [worker1] = await create();
    const quick = { ...settings };
    expect(quick.breakerWindowMs).toBeGreaterThan(0);
    await worker1.failure("slow-burn", settings);
    await worker1.failure("slow-burn", settings);
    await sleep(settings.breakerWindowMs + 50);
    await worker1.failure("slow-burn", settings);
    expect(await worker1.states(["slow-burn"])).toEqual([{ state: "closed" }]);
  });

  it("judges each failure with the thresholds of the route whose request failed, counted for the deployment", async () => {
    const [worker1, worker2] = await create();
    await worker1.failure("shared", settings);
    expect(await worker2.states(["shared"])).toEqual([{ state: "closed" }]);
    // The touchy route's one failure opens the shared deployment, for its own (longer) cooldown.
    await worker2.failure("shared", touchy);
    const [open] = await worker1.states(["shared"]);
    expect(open).toMatchObject({ state: "open" });
    expect((open as { reopensInMs: number }).reopensInMs).toBeGreaterThan(settings.breakerCooldownMs);

    // Two failures, then a third outside the default window but inside the patient route's.
    await worker1.failure("long-window", settings);
    await worker1.failure("long-window", settings);
    await sleep(settings.breakerWindowMs + 50);
    await worker1.failure("long-window", settings);
    expect(await worker1.states(["long-window"])).toEqual([{ state: "closed" }]);
    await worker2.failure("long-window", patient);
    expect(await worker1.states(["long-window"])).toEqual([
      { state: "open", reopensInMs: expect.any(Number) },
    ]);
  });
});
