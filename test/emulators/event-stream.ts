import type { ServerResponse } from "node:http";
import { crc32 } from "node:zlib";

/** Frame corruption a test asks for: a flipped bit in the prelude or in the payload (caught by the message CRC). */
export type Corruption = "prelude" | "message";

/**
 * AWS's `application/vnd.amazon.eventstream` framing, byte for byte: a prelude (total length,
 * headers length, the prelude's CRC32), headers (name length, name, type 7 = string, value
 * length, value), the payload, and the CRC32 of all before it. All integers big-endian.
 */
export function eventStreamFrame(
  headers: Record<string, string>,
  payload: Buffer,
  corruption?: Corruption,
): Buffer {
  const headerBytes = Buffer.concat(
    Object.entries(headers).map(([name, value]) => {
      const nameBytes = Buffer.from(name);
      const valueBytes = Buffer.from(value);
      const fixed = Buffer.alloc(4);
      fixed.writeUInt8(7, 0);
      fixed.writeUInt16BE(valueBytes.length, 1);
      return Buffer.concat([Buffer.from([nameBytes.length]), nameBytes, fixed.subarray(0, 3), valueBytes]);
    }),
  );
  const total = 12 + headerBytes.length + payload.length + 4;
  const frame = Buffer.alloc(total);
  frame.writeUInt32BE(total, 0);
  frame.writeUInt32BE(headerBytes.length, 4);
  frame.writeUInt32BE(crc32(frame.subarray(0, 8)), 8);
  headerBytes.copy(frame, 12);
  payload.copy(frame, 12 + headerBytes.length);
  frame.writeUInt32BE(crc32(frame.subarray(0, total - 4)), total - 4);
  if (corruption === "prelude") frame[5] = (frame[5] as number) ^ 0x01;
  if (corruption === "message") frame[total - 6] = (frame[total - 6] as number) ^ 0x01;
  return frame;
}

/** Bedrock pads each event's JSON with `p`, so its length does not betray the text: readers ignore it. */
const padding = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0";

/** Writes a Bedrock event stream: events, and an exception that ends it. One frame may be corrupted. */
export class EventStreamWriter {
  private frames = 0;

  constructor(
    private readonly response: ServerResponse,
    private readonly corruption?: { kind: Corruption; atFrame: number },
  ) {
    response.writeHead(200, {
      "content-type": "application/vnd.amazon.eventstream",
      "x-amzn-requestid": "emu-request",
    });
  }

  event(type: string, payload: Record<string, unknown> | string): void {
    const json =
      typeof payload === "string" ? payload : JSON.stringify({ ...payload, p: padding.slice(0, 7) });
    this.write({ ":event-type": type, ":content-type": "application/json", ":message-type": "event" }, json);
  }

  exception(type: string, message: string): void {
    this.write(
      { ":exception-type": type, ":content-type": "application/json", ":message-type": "exception" },
      JSON.stringify({ message }),
    );
    this.response.end();
  }

  private write(headers: Record<string, string>, json: string): void {
    const corrupt = this.corruption?.atFrame === this.frames++ ? this.corruption.kind : undefined;
    this.response.write(eventStreamFrame(headers, Buffer.from(json), corrupt));
  }
}
