import type { Logger } from "../runtime/logger.ts";
import { type ErrorCode, GatewayError } from "../schemas/errors.ts";

export type ApiShape = "openai" | "anthropic";

/** Every gateway error code in OpenAI's and Anthropic's words: the one table that maps errors to callers. */
const shapes: Record<ErrorCode, { openai: { type: string; code: string | null }; anthropic: string }> = {
  invalid_request: {
    openai: { type: "invalid_request_error", code: null },
    anthropic: "invalid_request_error",
  },
  authentication: {
    openai: { type: "invalid_request_error", code: "invalid_api_key" },
    anthropic: "authentication_error",
  },
  permission: {
    openai: { type: "invalid_request_error", code: "permission_denied" },
    anthropic: "permission_error",
  },
  not_found: {
    openai: { type: "invalid_request_error", code: "model_not_found" },
    anthropic: "not_found_error",
  },
  request_too_large: {
    openai: { type: "invalid_request_error", code: "request_too_large" },
    anthropic: "request_too_large",
  },
  rate_limited: { openai: { type: "requests", code: "rate_limit_exceeded" }, anthropic: "rate_limit_error" },
  budget_exceeded: {
    openai: { type: "insufficient_quota", code: "insufficient_quota" },
    anthropic: "rate_limit_error",
  },
  cancelled: {
    openai: { type: "invalid_request_error", code: "cancelled" },
    anthropic: "invalid_request_error",
  },
  internal: { openai: { type: "server_error", code: null }, anthropic: "api_error" },
  provider_error: { openai: { type: "server_error", code: "provider_error" }, anthropic: "api_error" },
  overloaded: { openai: { type: "server_error", code: "overloaded" }, anthropic: "overloaded_error" },
  timeout: { openai: { type: "server_error", code: "timeout" }, anthropic: "timeout_error" },
};

/** The HTTP status for an error in a shape: Anthropic says "overloaded" with its own 529. */
export function statusOf(error: GatewayError, shape: ApiShape): number {
  return shape === "anthropic" && error.code === "overloaded" ? 529 : error.status;
}

/** The error body a caller of that API expects. */
export function errorBody(error: GatewayError, shape: ApiShape): Record<string, unknown> {
  const mapped = shapes[error.code];
  if (shape === "anthropic")
    return { type: "error", error: { type: mapped.anthropic, message: error.message } };
  return {
    error: {
      message: error.message,
      type: mapped.openai.type,
      param: error.details.param ?? null,
      code: mapped.openai.code,
    },
  };
}

/**
 * What to answer a request that threw. An error the gateway did not expect reaches the caller only
 * as "the gateway failed to handle the request", so its cause — type, message, stack — is logged
 * here, as one line: every catch-all of the edge and of batch lines answers through this.
 */
export function errorToAnswer(error: unknown, log: Pick<Logger, "error">): GatewayError {
  const answer = asGatewayError(error);
  if (answer.code === "internal") log.error({ err: error }, internalMessage);
  return answer;
}

const internalMessage = "the gateway failed to handle the request";

/** Any thrown value as a GatewayError; unknown errors become a generic internal error (see errorToAnswer). */
export function asGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  const status = (error as { statusCode?: number }).statusCode;
  const message = (error as Error).message ?? "";
  if (status === 413)
    return new GatewayError("request_too_large", "the request body is larger than this gateway accepts");
  if (status === 415)
    return new GatewayError("invalid_request", "the body must be JSON (Content-Type: application/json)", {
      status: 415,
    });
  if (status === 400) return new GatewayError("invalid_request", `the body is not valid JSON: ${message}`);
  return new GatewayError("internal", internalMessage);
}
