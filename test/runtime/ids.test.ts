import { describe, expect, it } from "vitest";
import { uuidv7 } from "../../runtime/ids.ts";

const shape = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("uuidv7", () => {
  it("writes the time first, then the version and variant, and never the same id twice", () => {
    const at = Date.UTC(2026, 11, 7, 18, 0, 0);
    // More ids than one draw of random bytes serves (256), so the draws must follow each other.
    const ids = Array.from({ length: 10_000 }, () => uuidv7(at));
    for (const id of ids) expect(id).toMatch(shape);
    expect(new Set(ids).size).toBe(ids.length);
    const millis = Number.parseInt(ids[0]?.replaceAll("-", "").slice(0, 12) ?? "", 16);
    expect(millis).toBe(at);
  });

  it("sorts by the time it is given", () => {
    const ids = [3, 1, 2].map((offset) => uuidv7(1_796_000_000_000 + offset));
    expect([...ids].sort()).toEqual([ids[1], ids[2], ids[0]]);
  });

  it("gives the same id for the same time and seed", () => {
    const seed = Buffer.alloc(16, 0xab);
    expect(uuidv7(1_796_000_000_000, seed)).toBe(uuidv7(1_796_000_000_000, seed));
    expect(uuidv7(1_796_000_000_000, seed)).toMatch(shape);
    expect(seed.equals(Buffer.alloc(16, 0xab))).toBe(true);
  });
});
