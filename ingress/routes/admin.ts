import { Type as T } from "@sinclair/typebox";
import type { FastifyPluginAsync } from "fastify";
import { GatewayError } from "../../schemas/errors.ts";
import { validateBody } from "../apis/validate.ts";
import type { Keyring } from "../auth.ts";
import type { AnswerCache } from "../cache/answer-cache.ts";
import { answerErrorsIn } from "../errors.ts";
import { type AnalyticsReader, analyticsAdminRoutes } from "./admin-analytics.ts";

const purgeBody = T.Object(
  {
    keyId: T.Optional(
      T.String({ pattern: "^[0-9a-f]{12}$", description: "a gateway key's id (as in analytics)" }),
    ),
    model: T.Optional(T.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);

/**
 * The admin API, for keys with `admin: true`; answers and errors in OpenAI's shape.
 * POST /admin/cache/purge {keyId?, model?}: drops the cached answers of a tenant, a model, or both.
 * /admin/analytics/…: SQL and named reports over ClickHouse (admin-analytics.ts).
 */
export const adminRoutes: FastifyPluginAsync<{
  keyring: Keyring;
  cache: AnswerCache;
  analytics: AnalyticsReader | undefined;
}> = async (app, options) => {
  app.setErrorHandler(answerErrorsIn("openai"));
  app.addHook("onRequest", async (request) => {
    if (!options.keyring.authenticate(request.headers).admin)
      throw new GatewayError("permission", "this gateway key may not call the admin API");
  });
  await app.register(analyticsAdminRoutes, { reader: options.analytics });
  app.post("/admin/cache/purge", async (request) => {
    const scope = validateBody(purgeBody, request.body ?? {});
    if (scope.keyId === undefined && scope.model === undefined)
      throw new GatewayError(
        "invalid_request",
        "name a keyId, a model or both: purging everything is not offered",
      );
    try {
      return { purged: await options.cache.purge({ tenant: scope.keyId, model: scope.model }) };
    } catch (error) {
      throw new GatewayError("overloaded", `the cache could not be purged now: ${(error as Error).message}`, {
        retryAfterMs: 1000,
      });
    }
  });
};
