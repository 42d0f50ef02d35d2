import { Type as T } from "@sinclair/typebox";
import { createHttpClient, type HttpClient, type RequestSigner } from "./client.ts";

/** The connection settings every HTTP provider takes, with their defaults. */
export const connectionOptions = {
  maxConnections: T.Integer({
    minimum: 1,
    default: 256,
    description: "Keep-alive connections per worker process.",
  }),
  connectTimeoutMs: T.Integer({
    minimum: 100,
    default: 5_000,
    description: "Longest wait for a TCP/TLS connection.",
  }),
  firstByteTimeoutMs: T.Integer({
    minimum: 100,
    default: 120_000,
    description: "Longest wait for the provider to start answering.",
  }),
  idleTimeoutMs: T.Integer({
    minimum: 100,
    default: 120_000,
    description: "Longest silence inside a streamed answer.",
  }),
};

export interface ConnectionOptions {
  maxConnections: number;
  connectTimeoutMs: number;
  firstByteTimeoutMs: number;
  idleTimeoutMs: number;
}

/** A pool to `baseUrl` with these settings; `sign`, when given, signs every request (AWS SigV4). */
export function connect(baseUrl: string, options: ConnectionOptions, sign?: RequestSigner): HttpClient {
  return createHttpClient(baseUrl, {
    connections: options.maxConnections,
    connectTimeoutMs: options.connectTimeoutMs,
    headersTimeoutMs: options.firstByteTimeoutMs,
    bodyTimeoutMs: options.idleTimeoutMs,
    sign,
  });
}
