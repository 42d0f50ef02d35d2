import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  path: string;
  headers: IncomingMessage["headers"];
  body: Record<string, unknown>;
}

export interface JsonServer {
  /** http://127.0.0.1:PORT */
  readonly origin: string;
  /** Every request received, body parsed (unless recording is off). */
  readonly requests: RecordedRequest[];
  /** TCP connections accepted so far: keep-alive reuse shows as few connections for many requests. */
  connections(): number;
  close(): Promise<void>;
}

/**
 * The HTTP part every provider emulator shares: reads and parses a JSON body (an unparseable one
 * gets `badJson`), records the request, hands it to `handle`, and closes cleanly.
 */
export async function startJsonServer(options: {
  handle: (
    request: IncomingMessage,
    response: ServerResponse,
    body: Record<string, unknown>,
  ) => Promise<unknown>;
  badJson: (response: ServerResponse) => void;
  record?: boolean;
  port?: number;
}): Promise<JsonServer> {
  const requests: RecordedRequest[] = [];
  let connections = 0;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString() || "{}") as Record<string, unknown>;
      } catch {
        return options.badJson(response);
      }
      if (options.record !== false)
        requests.push({ path: request.url ?? "", headers: request.headers, body });
      options.handle(request, response, body).catch(() => response.destroy());
    });
  });
  server.keepAliveTimeout = 60_000;
  server.on("connection", () => {
    connections++;
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    connections: () => connections,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
