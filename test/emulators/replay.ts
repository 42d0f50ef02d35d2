import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * Answers every POST with a recorded SSE stream, byte for byte, in small pieces (so that events,
 * lines and UTF-8 characters arrive split across reads, as they do over a real network).
 */
export async function startReplay(
  fixture: URL,
  pieceBytes = 7,
): Promise<{ url: string; close(): Promise<void> }> {
  const bytes = readFileSync(fixture);
  const server = createServer((request, response) => {
    request.resume();
    request.on("end", async () => {
      response.writeHead(200, { "content-type": "text/event-stream; charset=utf-8" });
      for (let offset = 0; offset < bytes.length; offset += pieceBytes) {
        response.write(bytes.subarray(offset, offset + pieceBytes));
        await new Promise((resolve) => setImmediate(resolve));
      }
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
