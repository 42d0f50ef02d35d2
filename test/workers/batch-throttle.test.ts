import { describe, expect, it } from "vitest";
import { BatchThrottle } from "../../workers/batch-throttle.ts";

/** A throttle on a clock the test moves: windows of 100 ms, a cap of 64 batch lines, a target wait of 50 ms. */
function throttle() {
  let now = 0;
  const batch = new BatchThrottle(64, 50, 100, () => now);
  return { batch, advance: (ms: number) => (now += ms) };
}

describe("the batch throttle", () => {
  it("gives batch lines their whole share while nothing else waits", () => {
    const { batch, advance } = throttle();
    for (let window = 0; window < 10; window++) {
      batch.observeWait(10);
      advance(100);
      batch.poll(true);
    }
    expect(batch.limit).toBe(64);
  });

  it("halves the limit once per window in which another request waited too long", () => {
    const { batch, advance } = throttle();
    batch.observeWait(80);
    batch.observeWait(200);
    expect(batch.limit).toBe(32);
    advance(100);
    batch.observeWait(60);
    expect(batch.limit).toBe(16);
    for (let window = 0; window < 10; window++) {
      advance(100);
      batch.observeWait(500);
    }
    expect(batch.limit).toBe(1);
  });

  it("grows back by a sixteenth of the cap per quiet window, only while batch lines wait for it", () => {
    const { batch, advance } = throttle();
    batch.observeWait(100);
    expect(batch.limit).toBe(32);
    advance(100);
    batch.poll(false);
    expect(batch.limit).toBe(32);
    for (let window = 0; window < 3; window++) {
      advance(100);
      batch.poll(true);
    }
    expect(batch.limit).toBe(44);
    for (let window = 0; window < 10; window++) {
      advance(100);
      batch.poll(true);
    }
    expect(batch.limit).toBe(64);
  });

  it("does nothing with a target of 0", () => {
    let now = 0;
    const batch = new BatchThrottle(64, 0, 100, () => now);
    batch.observeWait(10_000);
    now += 100;
    batch.poll(true);
    expect(batch.limit).toBe(64);
  });
});
