import type { FastifyPluginAsync } from "fastify";
import { errorBody, errorToAnswer, statusOf } from "../../calls/errors.ts";
import type { RouteTable } from "../../config/routes.ts";
import { modelAllowed } from "../../governance/access.ts";

/**
 * GET /v1/models: the model names this gateway serves that the caller's key may call, in OpenAI's
 * list shape, or in Anthropic's when the caller sends `anthropic-version` (as the Anthropic SDKs do).
 */
export const modelRoutes: FastifyPluginAsync<{ routes: RouteTable }> = async (app, options) => {
  app.get("/v1/models", async (request, reply) => {
    const anthropic = request.headers["anthropic-version"] !== undefined;
    try {
      app.authenticate(request);
    } catch (error) {
      const shape = anthropic ? "anthropic" : "openai";
      const gatewayError = errorToAnswer(error, request.log);
      return reply.code(statusOf(gatewayError, shape)).send(errorBody(gatewayError, shape));
    }
    const names = options.routes.listed().filter((name) => modelAllowed(request.caller, name));
    if (anthropic) {
      return {
        data: names.map((id) => ({
          type: "model",
          id,
          display_name: id,
          created_at: "1970-01-01T00:00:00Z",
        })),
        has_more: false,
        first_id: names[0] ?? null,
        last_id: names.at(-1) ?? null,
      };
    }
    return {
      object: "list",
      data: names.map((id) => ({
        id,
        object: "model",
        created: 0,
        owned_by: options.routes.resolve(id)?.deployments[0]?.provider ?? "gateway",
      })),
    };
  });
};
