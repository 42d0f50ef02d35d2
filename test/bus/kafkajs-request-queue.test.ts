import { globSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { kafkajsRequestQueue } from "../../runtime/kafkajs.ts";

/** An object with kafkajs's RequestQueue state, driven through the patched scheduler. */
function queue(state: { pending: unknown[]; throttledUntil: number }) {
  let checks = 0;
  const instance = Object.assign(Object.create(kafkajsRequestQueue.prototype), {
    ...state,
    throttleCheckTimeoutId: null,
    checkPendingRequests() {
      checks++;
    },
  });
  return { instance, checks: () => checks };
}

describe("the kafkajs request-queue fix", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("arms no timer while nothing is queued (kafkajs 2.2.4 would spin a 1 ms timer forever)", () => {
    const { instance, checks } = queue({ pending: [], throttledUntil: -1 });
    instance.scheduleCheckPendingRequests();
    expect(instance.throttleCheckTimeoutId).toBeNull();
    vi.advanceTimersByTime(1_000);
    expect(checks()).toBe(0);
  });

  it("still checks queued requests: soon when not throttled, once the throttle ends otherwise", () => {
    const waiting = queue({ pending: [{}], throttledUntil: -1 });
    waiting.instance.scheduleCheckPendingRequests();
    vi.advanceTimersByTime(10);
    expect(waiting.checks()).toBe(1);

    const throttled = queue({ pending: [{}], throttledUntil: Date.now() + 500 });
    throttled.instance.scheduleCheckPendingRequests();
    vi.advanceTimersByTime(499);
    expect(throttled.checks()).toBe(0);
    vi.advanceTimersByTime(1);
    expect(throttled.checks()).toBe(1);
  });

  it("is in place for every kafkajs client: all of them are made by newKafka", () => {
    const root = fileURLToPath(new URL("../../", import.meta.url));
    const makers = globSync("**/*.ts", {
      cwd: root,
      exclude: (path) => path.includes("node_modules"),
    }).filter(
      (path) => path !== "runtime/kafkajs.ts" && /\bnew Kafka\(/.test(readFileSync(`${root}${path}`, "utf8")),
    );
    expect(makers).toEqual([]);
  });
});
