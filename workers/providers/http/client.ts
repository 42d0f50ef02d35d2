import { createRequire } from "node:module";
import { GatewayError } from "../../../schemas/errors.ts";

/**
 * undici (110 modules) is required when the first provider connects, not when this file is
 * imported: the configuration imports every adapter to check their options, and `ai-gateway
 * config` should not pay for an HTTP client it never uses.
 */
const undici = () => createRequire(import.meta.url)("undici") as typeof import("undici");

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: AsyncIterable<Uint8Array> & {
    text(): Promise<string>;
    json(): Promise<unknown>;
    dump(): Promise<void>;
  };
}

export interface HttpClient {
  post(
    path: string,
    body: unknown,
    headers: Record<string, string>,
    signal: AbortSignal,
  ): Promise<HttpResponse>;
  close(): Promise<void>;
}

/**
 * Signs a request whose URL, headers and body are final (AWS SigV4 signs them all); the headers it
 * returns are added to the request.
 */
export type RequestSigner = (request: {
  url: URL;
  headers: Record<string, string>;
  body: string;
}) => Promise<Record<string, string>>;

export interface HttpClientOptions {
  /** Most connections kept to this provider (per worker process). */
  connections: number;
  connectTimeoutMs: number;
  /** Longest wait for the response headers (for a stream: until the provider starts answering). */
  headersTimeoutMs: number;
  /** Longest silence between two pieces of the body. */
  bodyTimeoutMs: number;
  /** Signs each request (a provider that authenticates by signing rather than by a key). */
  sign?: RequestSigner;
}

/**
 * A keep-alive connection pool to one provider's base URL. The URL comes from configuration only:
 * requests name a path under it, so nothing a caller sends can point the gateway (and its keys)
 * at another host.
 */
export function createHttpClient(baseUrl: string, options: HttpClientOptions): HttpClient {
  const url = new URL(baseUrl);
  const basePath = url.pathname.replace(/\/$/, "");
  const pool = new (undici().Pool)(url.origin, {
    connections: options.connections,
    connectTimeout: options.connectTimeoutMs,
    headersTimeout: options.headersTimeoutMs,
    bodyTimeout: options.bodyTimeoutMs,
    keepAliveTimeout: 30_000,
  });
  return {
    async post(path, body, headers, signal) {
      // A form (URLSearchParams) goes form-encoded, as OAuth token endpoints take it; anything else as JSON.
      const form = body instanceof URLSearchParams;
      const text = form ? body.toString() : JSON.stringify(body);
      const sent = {
        "content-type": form ? "application/x-www-form-urlencoded" : "application/json",
        ...headers,
      };
      const signature = await options.sign?.({
        url: new URL(`${basePath}${path}`, url.origin),
        headers: sent,
        body: text,
      });
      try {
        const response = await pool.request({
          method: "POST",
          path: `${basePath}${path}`,
          headers: { ...sent, ...signature },
          body: text,
          signal,
        });
        return { status: response.statusCode, headers: response.headers, body: response.body };
      } catch (error) {
        throw transportError(error, signal);
      }
    },
    close: () => pool.close(),
  };
}

/** A failure to talk to the provider at all, as the gateway error to report (and, later, to fail over on). */
export function transportError(error: unknown, signal: AbortSignal): unknown {
  if (signal.aborted) return signal.reason ?? error;
  const code = (error as { code?: string }).code ?? "";
  if (
    code === "UND_ERR_HEADERS_TIMEOUT" ||
    code === "UND_ERR_BODY_TIMEOUT" ||
    code === "UND_ERR_CONNECT_TIMEOUT"
  ) {
    return new GatewayError("timeout", `the provider did not answer in time (${code})`);
  }
  return new GatewayError(
    "provider_error",
    `the provider could not be reached (${code || (error as Error).message})`,
  );
}
