import { describe, expect, it } from "vitest";
import { attemptEventCodec } from "../../schemas/index.ts";
import { attemptEvent } from "../support/attempt-event.ts";

/** The codecs encode through one scratch buffer shared by all (schemas/codec.ts), not avsc's toBuffer. */
describe("encoding a message", () => {
  // Small, past avsc's own 1 KB, past the 64 KB scratch.
  it.each([10, 5_000, 200_000])(
    "with a %i-character field gives avsc's own bytes, and reads back",
    (length) => {
      const event = attemptEvent({ modelRequested: "m".repeat(length) });
      const encoded = attemptEventCodec.encode(event);
      expect(encoded.equals(attemptEventCodec.type.toBuffer(event))).toBe(true);
      expect(attemptEventCodec.decode(encoded).modelRequested).toBe(event.modelRequested);
    },
  );

  it("gives every message bytes of its own: the next encoding changes none of them", () => {
    const first = attemptEvent({ modelRequested: "first" });
    const encoded = attemptEventCodec.encode(first);
    const copy = Buffer.from(encoded);
    attemptEventCodec.encode(attemptEvent({ modelRequested: "second, and longer than the first" }));
    attemptEventCodec.encode(attemptEvent({ modelRequested: "x".repeat(100_000) }));
    expect(encoded.equals(copy)).toBe(true);
    expect(attemptEventCodec.decode(encoded).modelRequested).toBe("first");
  });
});
