import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { afterAll, describe, expect, inject, it } from "vitest";
import { connectRedis } from "../../runtime/redis.ts";
import { createInProcessQuotas } from "../../workers/routing/quotas/in-process.ts";
import { createRedisQuotas } from "../../workers/routing/quotas/redis.ts";
import type { QuotaStore } from "../../workers/routing/quotas/store.ts";

const connections: Redis[] = [];
afterAll(() => Promise.all(connections.map((redis) => redis.quit())));

/** Two stores stand for two worker processes (in-process: the one store of a single-process gateway). */
const kinds: Array<[string, (leaseLimitMs?: number) => Promise<[QuotaStore, QuotaStore]>]> = [
  [
    "Redis",
    async (leaseLimitMs = 60_000) => {
      const config = {
        url: inject("services").redis.url,
        keyPrefix: `test-quotas-${randomUUID().slice(0, 8)}:`,
      };
      const [a, b] = await Promise.all([connectRedis(config), connectRedis(config)]);
      connections.push(a, b);
      return [createRedisQuotas(a, leaseLimitMs), createRedisQuotas(b, leaseLimitMs)];
    },
  ],
  [
    "in-process",
    async (leaseLimitMs = 60_000) => {
      const store = createInProcessQuotas(leaseLimitMs);
      return [store, store];
    },
  ],
];

describe.each(kinds)("deployment quotas (%s)", (_kind, create) => {
  it("tell what is in use across workers — calls running, requests and tokens this minute — without taking any", async () => {
    const [worker1, worker2] = await create();
    // The counts below are exact within one minute; across its end the last minute's would weigh less.
    if (Date.now() % 60_000 > 58_000) await new Promise((resolve) => setTimeout(resolve, 2100));
    const limits = { concurrency: 5, requestsPerMinute: 100, tokensPerMinute: 10_000 };
    expect(await worker2.usage("u")).toEqual({ concurrent: 0, requestsPerMinute: 0, tokensPerMinute: 0 });
    const first = (await worker1.acquire("u", limits, 300)) as { lease: string };
    await worker2.acquire("u", limits, 200);
    expect(await worker2.usage("u")).toEqual({ concurrent: 2, requestsPerMinute: 2, tokensPerMinute: 500 });
    await worker1.release("u", first.lease, 300, 120);
    expect(await worker1.usage("u")).toEqual({ concurrent: 1, requestsPerMinute: 2, tokensPerMinute: 320 });
    expect(await worker1.usage("u")).toEqual(await worker2.usage("u"));
  });

  it("hold calls at once to the concurrency limit across workers, and free a slot when a call ends", async () => {
    const [worker1, worker2] = await create();
    const limits = { concurrency: 2 };
    const grants = await Promise.all(
      Array.from({ length: 5 }, (_, index) => (index % 2 ? worker1 : worker2).acquire("d", limits, 10)),
    );
    expect(grants.filter((grant) => grant.granted)).toHaveLength(2);
    const held = grants.find((grant) => grant.granted) as { lease: string };
    await worker1.release("d", held.lease, 10, 10);
    expect((await worker2.acquire("d", limits, 10)).granted).toBe(true);
    expect((await worker1.acquire("d", limits, 10)).granted).toBe(false);
  });

  it("count requests per minute, and say how long until there is room", async () => {
    const [worker1, worker2] = await create();
    const limits = { requestsPerMinute: 3 };
    const grants = [];
    for (let call = 0; call < 4; call++)
      grants.push(await (call % 2 ? worker1 : worker2).acquire("r", limits, 1));
    expect(grants.map((grant) => grant.granted)).toEqual([true, true, true, false]);
    const refused = grants[3] as { retryInMs: number };
    expect(refused.retryInMs).toBeGreaterThan(0);
    expect(refused.retryInMs).toBeLessThanOrEqual(60_000);
  });

  it("count tokens per minute from the estimate, corrected to what the call used", async () => {
    const [worker1, worker2] = await create();
    const limits = { tokensPerMinute: 1000 };
    const first = await worker1.acquire("t", limits, 600);
    expect(first.granted).toBe(true);
    expect((await worker2.acquire("t", limits, 600)).granted).toBe(false);
    // It used 100 of the 600 it was counted for: the other 500 are free again.
    await worker1.release("t", (first as { lease: string }).lease, 600, 100);
    expect((await worker2.acquire("t", limits, 600)).granted).toBe(true);
  });

  it("let the slots of calls whose worker died lapse", async () => {
    const [worker1, worker2] = await create(100);
    expect((await worker1.acquire("lapsing", { concurrency: 1 }, 1)).granted).toBe(true);
    expect((await worker2.acquire("lapsing", { concurrency: 1 }, 1)).granted).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect((await worker2.acquire("lapsing", { concurrency: 1 }, 1)).granted).toBe(true);
  });
});
