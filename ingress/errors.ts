import type { FastifyReply, FastifyRequest } from "fastify";
import { type ApiShape, errorBody, errorToAnswer, statusOf } from "../calls/errors.ts";
import { GatewayError } from "../schemas/errors.ts";

/**
 * An error handler for a scope of routes answering in one API's shape; `describe` rewords the
 * message in the API's own terms where the gateway's differ.
 */
export function answerErrorsIn(shape: ApiShape, describe?: (message: string) => string) {
  return (error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const caught = errorToAnswer(error, request.log);
    const shown = describe ? new GatewayError(caught.code, describe(caught.message), caught.details) : caught;
    return sendErrorIn(reply, shown, shape);
  };
}

/** Answers with an error in a shape, with its status and headers (Retry-After, x-ratelimit-*). */
export function sendErrorIn(reply: FastifyReply, error: GatewayError, shape: ApiShape) {
  if (error.details.retryAfterMs !== undefined)
    reply.header("retry-after", Math.ceil(error.details.retryAfterMs / 1000));
  for (const [name, value] of Object.entries(error.details.headers ?? {})) reply.header(name, value);
  return reply.code(statusOf(error, shape)).send(errorBody(error, shape));
}
