import { Type as T } from "@sinclair/typebox";
import { GatewayError } from "../../../schemas/errors.ts";
import type { HttpResponse } from "./client.ts";
import { ProviderData, type ProviderDataOf } from "./provider-data.ts";

/**
 * A provider's HTTP error as a gateway error with the status the caller should see:
 * - 400/404/413/422: the request's fault; the provider's own message is passed on;
 * - 401/403: the gateway's provider credentials were refused. Not the caller's fault, so 502,
 *   and the provider's message is dropped: some providers echo part of the key in it;
 * - 429: rate limited, with the provider's retry-after (seconds or milliseconds) kept;
 * - 5xx, 408, 409: the provider failed (502; 503 stays "overloaded").
 */
export async function providerHttpError(provider: string, response: HttpResponse): Promise<GatewayError> {
  const text = await response.body.text().catch(() => "");
  const body = errorBody.peek(text);
  const retryAfter = retryAfterMs(response.headers) ?? googleRetryDelayMs(body);
  return providerStatusError(
    provider,
    response.status,
    (body ? messageOf(body) : text.trim().slice(0, 500)) || `HTTP ${response.status}`,
    retryAfter,
  );
}

/** The mapping above for a status and message already read (the mock provider fails through it too). */
export function providerStatusError(
  provider: string,
  status: number,
  message: string,
  retryAfter?: number,
): GatewayError {
  // Google answers a bad key with a 400 ("API key not valid"): still the gateway's credentials, not the caller's request.
  if (status === 401 || status === 403 || (status === 400 && /api key/i.test(message))) {
    return new GatewayError(
      "provider_error",
      `${provider} refused the gateway's credentials (HTTP ${status})`,
      { status: 502 },
    );
  }
  if (status === 429)
    return new GatewayError("rate_limited", `${provider} is rate limiting: ${message}`, {
      retryAfterMs: retryAfter,
    });
  if (status === 404) return new GatewayError("not_found", `${provider}: ${message}`);
  if (status === 413) return new GatewayError("request_too_large", `${provider}: ${message}`);
  if (status === 400 || status === 422)
    return new GatewayError("invalid_request", `${provider}: ${message}`, { status: 400 });
  if (status === 503 || status === 529) {
    return new GatewayError("overloaded", `${provider} is overloaded: ${message}`, {
      retryAfterMs: retryAfter,
    });
  }
  return new GatewayError("provider_error", `${provider} failed (HTTP ${status}): ${message}`, {
    status: 502,
  });
}

/**
 * What the gateway reads of an OpenAI-, Anthropic- or Gemini-style error body. One of another
 * shape (or not JSON) is passed on as text: the provider's status says what happened anyway.
 */
const errorBody = new ProviderData(
  "an error",
  T.Object({
    error: T.Optional(
      T.Union([
        T.String(),
        T.Object({
          message: T.Optional(T.String()),
          details: T.Optional(T.Array(T.Object({ retryDelay: T.Optional(T.String()) }))),
        }),
      ]),
    ),
    message: T.Optional(T.String()),
  }),
);

function messageOf(body: ProviderDataOf<typeof errorBody>): string | undefined {
  if (typeof body.error === "string") return body.error;
  return body.error?.message ?? body.message;
}

/** Google APIs say when to retry in the body: `error.details[].retryDelay` ("30s") of a RetryInfo. */
function googleRetryDelayMs(body: ProviderDataOf<typeof errorBody> | undefined): number | undefined {
  const details = typeof body?.error === "object" ? (body.error.details ?? []) : [];
  const delay = details.find((detail) => detail.retryDelay !== undefined)?.retryDelay;
  const seconds = delay ? Number.parseFloat(delay) : Number.NaN;
  return Number.isFinite(seconds) ? seconds * 1000 : undefined;
}

function retryAfterMs(headers: HttpResponse["headers"]): number | undefined {
  const milliseconds = Number(headers["retry-after-ms"]);
  if (Number.isFinite(milliseconds) && milliseconds > 0) return milliseconds;
  const value = headers["retry-after"];
  if (typeof value !== "string") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}
