/**
 * The gateway's error codes and the HTTP status each one answers with. Workers put a code in a
 * reply's Failure; the ingress maps it, in one place, to the caller's API shape.
 */
export const errorStatus = {
  invalid_request: 400,
  authentication: 401,
  permission: 403,
  not_found: 404,
  request_too_large: 413,
  rate_limited: 429,
  budget_exceeded: 429,
  cancelled: 499,
  internal: 500,
  provider_error: 502,
  overloaded: 503,
  timeout: 504,
} as const;

export type ErrorCode = keyof typeof errorStatus;

export class GatewayError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: {
      /** When the caller may try again. */
      retryAfterMs?: number;
      /** The request field at fault, for invalid_request. */
      param?: string;
      /** Overrides the code's usual status, e.g. a provider's own 4xx passed through. */
      status?: number;
      /** Sent with the error, e.g. the x-ratelimit-* state of a refused request. */
      headers?: Record<string, string>;
    } = {},
  ) {
    super(message);
    this.name = "GatewayError";
    this.status = details.status ?? errorStatus[code];
  }
}
