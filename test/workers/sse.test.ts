import { describe, expect, it } from "vitest";
import { parseServerSentEvents, type ServerSentEvent } from "../../workers/providers/http/sse.ts";

async function parse(chunks: Array<Uint8Array | string>): Promise<ServerSentEvent[]> {
  const events: ServerSentEvent[] = [];
  async function* source() {
    yield* chunks;
  }
  for await (const event of parseServerSentEvents(source())) events.push(event);
  return events;
}

const stream = [
  ": keep-alive comment",
  "",
  "event: content_block_delta",
  'data: {"text":"Grüße 👋 — ok"}',
  "",
  'data: {"a":1}',
  "data: second line",
  "",
  "data:no-space",
  "",
  "event: ping",
  "data: {}",
  "",
  "data: [DONE]",
  "",
].join("\n");

const expected: ServerSentEvent[] = [
  { event: "content_block_delta", data: '{"text":"Grüße 👋 — ok"}' },
  { event: "message", data: '{"a":1}\nsecond line' },
  { event: "message", data: "no-space" },
  { event: "ping", data: "{}" },
  { event: "message", data: "[DONE]" },
];

describe("the SSE parser", () => {
  it("reads events, comments, multi-line data and named events", async () => {
    expect(await parse([stream])).toEqual(expected);
  });

  it("gives the same events whichever byte the stream is split at, inside UTF-8 characters too", async () => {
    const bytes = new TextEncoder().encode(stream);
    for (let split = 1; split < bytes.length; split++) {
      expect(await parse([bytes.slice(0, split), bytes.slice(split)])).toEqual(expected);
    }
  });

  it("survives a stream delivered one byte at a time", async () => {
    const bytes = new TextEncoder().encode(stream);
    expect(await parse(Array.from(bytes, (byte) => new Uint8Array([byte])))).toEqual(expected);
  });

  it("accepts \\r\\n and \\r line endings, also when \\r and \\n arrive apart", async () => {
    const crlf = stream.replaceAll("\n", "\r\n");
    const bytes = new TextEncoder().encode(crlf);
    for (let split = 1; split < bytes.length; split += 7) {
      expect(await parse([bytes.slice(0, split), bytes.slice(split)])).toEqual(expected);
    }
    expect(await parse([stream.replaceAll("\n", "\r")])).toEqual(expected);
  });

  it("delivers a last event that lacks its closing blank line", async () => {
    expect(await parse(['data: {"end":true}'])).toEqual([{ event: "message", data: '{"end":true}' }]);
  });
});
