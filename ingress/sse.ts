import { once } from "node:events";
import type { ServerResponse } from "node:http";
import type { Frame } from "../calls/apis/api.ts";

export const sseHeaders = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  connection: "keep-alive",
  // Tells nginx and similar proxies not to buffer the stream.
  "x-accel-buffering": "no",
};

/** One frame in SSE framing; keep-alives are comments, which clients ignore. */
export function sseText(frame: Frame): string {
  if ("keepAlive" in frame) return ": keep-alive\n\n";
  const data = typeof frame.data === "string" ? frame.data : JSON.stringify(frame.data);
  return frame.event ? `event: ${frame.event}\ndata: ${data}\n\n` : `data: ${data}\n\n`;
}

/** Writes at once, and waits only if the client reads slower than tokens arrive. */
export async function writeFrame(response: ServerResponse, frame: Frame): Promise<void> {
  if (response.destroyed) return;
  if (!response.write(sseText(frame))) await Promise.race([once(response, "drain"), once(response, "close")]);
}
