import { Type as T } from "@sinclair/typebox";
import { createHttpClient, type HttpClient, type RequestSigner } from "./client.ts";

/**
 * Headers the gateway sets itself, which a provider's `headers` may not name: its credentials (a
 * configured header replacing the key by accident would send calls unauthenticated, or with
 * another account's key), the body's framing, and the call's trace context.
 */
export const reservedHeaders = [
  "authorization",
  "proxy-authorization",
  "x-api-key",
  "api-key",
  "x-goog-api-key",
  "host",
  "content-type",
  "content-length",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "upgrade",
  "te",
  "trailer",
  "expect",
  "traceparent",
  "tracestate",
] as const;

/** A pattern matching `name` in any case (JSON Schema patterns take no flags). */
const anyCase = (name: string) =>
  name.replace(/[a-z]/g, (letter) => `[${letter}${letter.toUpperCase()}]`).replace(/-/g, "\\-");

/**
 * `headers`: a header name is an RFC 7230 token, its value one line; the reserved names are
 * refused when the configuration loads, each check with its own message.
 */
const headers = T.Intersect(
  [
    T.Record(
      T.String({ pattern: "^[!#$%&'*+\\-.^_`|~0-9A-Za-z]+$" }),
      T.String({ pattern: "^[^\\r\\n\\0]*$", patternMessage: "a header value cannot hold a line break" }),
      {
        additionalProperties: false,
        patternMessage: "not an HTTP header name (RFC 7230: letters, digits and !#$%&'*+-.^_`|~)",
      },
    ),
    T.Record(T.String({ pattern: `^(?!(?:${reservedHeaders.map(anyCase).join("|")})$)` }), T.Unknown(), {
      additionalProperties: false,
      patternMessage: `the gateway sets this header itself (its credentials, the body's framing or the trace context: ${reservedHeaders.join(", ")}); it cannot be configured`,
    }),
  ],
  {
    default: {},
    description:
      "Headers sent with every call to this provider (e.g. anthropic-beta, OpenAI-Organization); they replace the adapter's own of the same name. From here only: a caller's request headers never reach the provider.",
  },
);

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
  headers,
};

export interface ConnectionOptions {
  maxConnections: number;
  connectTimeoutMs: number;
  firstByteTimeoutMs: number;
  idleTimeoutMs: number;
  headers: Record<string, string>;
}

/**
 * A connection pool to the provider whose every call also carries the configured `headers`,
 * whatever the adapter sends (chat, streams, embeddings, token counts). Names are compared without
 * case, so a configured `Anthropic-Version` replaces the adapter's `anthropic-version` instead of
 * going along beside it. `sign`, when given, signs every request as sent, those headers included
 * (AWS SigV4).
 */
export function connect(baseUrl: string, options: ConnectionOptions, sign?: RequestSigner): HttpClient {
  const client = createHttpClient(baseUrl, {
    connections: options.maxConnections,
    connectTimeoutMs: options.connectTimeoutMs,
    headersTimeoutMs: options.firstByteTimeoutMs,
    bodyTimeoutMs: options.idleTimeoutMs,
    sign,
  });
  const configured = Object.entries(options.headers).map(([name, value]): [string, string] => [
    name.toLowerCase(),
    value,
  ]);
  if (configured.length === 0) return client;
  return {
    post(path, body, adapterHeaders, signal) {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(adapterHeaders)) headers[name.toLowerCase()] = value;
      for (const [name, value] of configured) headers[name] = value;
      return client.post(path, body, headers, signal);
    },
    close: () => client.close(),
  };
}
