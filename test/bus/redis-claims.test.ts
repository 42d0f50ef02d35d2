import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, inject, it } from "vitest";
import type { CallTrace } from "../../bus/coordination.ts";
import { createRedisCoordination } from "../../bus/redis/coordination.ts";
import { attemptEvent } from "../support/attempt-event.ts";

/** The trace a worker keeps for a call it is about to make: lost, at the most it could cost. */
function lostCall(requestId: string, call: string): CallTrace {
  const event = attemptEvent({
    requestId,
    attempt: call,
    workerId: call.split(":")[0],
    outcome: "failed",
    errorCode: "lost",
    status: 0,
    usage: { inputTokens: 10, outputTokens: 100 },
    usageEstimated: true,
  });
  return { call, event, keepMs: 60_000 };
}

/** Claims in a real Redis: the first call's trace travels with the claim, and only a claim taken keeps it. */
describe("claims in Redis", () => {
  const redis = new Redis(inject("services").redis.url, { keyPrefix: `test-claims-${randomUUID()}:` });
  const { claims } = createRedisCoordination(redis, "");
  afterAll(() => redis.quit());
  const ttlMs = 300;
  const lapse = () => new Promise((resolve) => setTimeout(resolve, ttlMs + 100));

  it("keeps the first call's trace with the claim: whoever claims after the runner is gone records it", async () => {
    const requestId = randomUUID();
    const first = lostCall(requestId, "w1:a.0");
    expect(await claims.claim({ requestId, attempt: "w1:a", ttlMs, firstCall: first })).toEqual({
      result: "claimed",
      orphans: [],
    });
    // A live claim refuses the next worker, and its own first call leaves no trace.
    const refused = await claims.claim({
      requestId,
      attempt: "w2:b",
      ttlMs,
      firstCall: lostCall(requestId, "w2:b.0"),
    });
    expect(refused).toEqual({ result: "taken", orphans: [] });

    await lapse();
    const next = await claims.claim({ requestId, attempt: "w3:c", ttlMs });
    expect(next.result).toBe("claimed");
    expect(next.orphans).toHaveLength(1);
    expect(next.orphans[0]).toMatchObject({
      requestId,
      attempt: "w1:a.0",
      errorCode: "lost",
      outcome: "failed",
    });
    expect(next.orphans[0]?.usage).toMatchObject({ inputTokens: 10, outputTokens: 100 });
  });

  it("keeps a later call's trace beside it, and a finished request's real events replace both", async () => {
    const requestId = randomUUID();
    await claims.claim({ requestId, attempt: "w1:a", ttlMs, firstCall: lostCall(requestId, "w1:a.0") });
    const second = lostCall(requestId, "w1:a.1");
    await claims.trace(requestId, second.call, second.event, second.keepMs);
    const completed = {
      ...lostCall(requestId, "w1:a.1").event,
      outcome: "completed" as const,
      errorCode: null,
      status: 200,
    };
    await claims.finish(requestId, { keepMs: 60_000, events: [completed] });

    await lapse();
    const after = await claims.claim({ requestId, attempt: "w2:b", ttlMs });
    expect(after.result).toBe("finished");
    expect(after.orphans.map(({ attempt, outcome }) => `${attempt} ${outcome}`)).toEqual([
      "w1:a.1 completed",
    ]);
  });

  it("keeps no trace for a claim not taken: a request asked only to be recovered", async () => {
    const requestId = randomUUID();
    expect(
      (
        await claims.claim({
          requestId,
          attempt: "w1:a",
          ttlMs,
          recoverOnly: true,
          firstCall: lostCall(requestId, "w1:a.0"),
        })
      ).result,
    ).toBe("stale");
    const after = await claims.claim({ requestId, attempt: "w2:b", ttlMs });
    expect(after).toEqual({ result: "claimed", orphans: [] });
  });
});
