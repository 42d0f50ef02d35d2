import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  path: string;
  headers: IncomingMessage["headers"];
  body: Record<string, unknown>;
  /** When its body had arrived (before any latency the prompt asked for). */
  receivedAtMs: number;
  /** The status the emulator answered with, once it has (a provider's own refusal is a 4xx here). */
  readonly status: number | undefined;
}

/** What every provider emulator offers a test. */
export interface Emulator {
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Directives applied to every request from now on, as if each prompt carried them ("" clears). */
  inject(directives: string): void;
  close(): Promise<void>;
}

export interface JsonServer {
  /** http://127.0.0.1:PORT */
  readonly origin: string;
  /** Every request received, body parsed (unless recording is off). */
  readonly requests: RecordedRequest[];
  /** TCP connections accepted so far: keep-alive reuse shows as few connections for many requests. */
  connections(): number;
  /** The server as an emulator whose API lives under `path` (e.g. "/v1"). */
  emulatorAt(path: string): Emulator;
  close(): Promise<void>;
}

/**
 * The HTTP part every provider emulator shares: reads and parses a JSON body (an unparseable one
 * gets `badJson`) or a form body, records the request, hands it to `handle` with the injected directives, and
 * closes cleanly.
 */
export async function startJsonServer(options: {
  handle: (
    request: IncomingMessage,
    response: ServerResponse,
    body: Record<string, unknown>,
    injected: string,
    /** The body's bytes as they arrived (AWS signs them). */
    raw: Buffer,
  ) => Promise<unknown>;
  badJson: (response: ServerResponse) => void;
  record?: boolean;
  port?: number;
}): Promise<JsonServer> {
  const requests: RecordedRequest[] = [];
  let connections = 0;
  let injected = "";
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const raw = Buffer.concat(chunks);
      let body: Record<string, unknown>;
      try {
        // A form (as OAuth token endpoints take) is read into its fields.
        body = request.headers["content-type"]?.startsWith("application/x-www-form-urlencoded")
          ? Object.fromEntries(new URLSearchParams(raw.toString()))
          : (JSON.parse(raw.toString() || "{}") as Record<string, unknown>);
      } catch {
        return options.badJson(response);
      }
      if (options.record !== false)
        requests.push({
          path: request.url ?? "",
          headers: request.headers,
          body,
          receivedAtMs: Date.now(),
          get status() {
            return response.headersSent ? response.statusCode : undefined;
          },
        });
      options.handle(request, response, body, injected, raw).catch(() => response.destroy());
    });
  });
  server.keepAliveTimeout = 60_000;
  server.on("connection", () => {
    connections++;
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return {
    origin,
    requests,
    connections: () => connections,
    emulatorAt: (path) => ({
      url: `${origin}${path}`,
      requests,
      inject: (directives) => {
        injected = directives;
      },
      close,
    }),
    close,
  };
}
