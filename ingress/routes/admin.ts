import { Type as T } from "@sinclair/typebox";
import type { FastifyPluginAsync } from "fastify";
import type { AnalyticsAccess } from "../../analytics/reader/run.ts";
import type { BatchServices } from "../../batches/service.ts";
import { validateBody } from "../../calls/apis/validate.ts";
import type { AnswerCache } from "../../calls/cache/answer-cache.ts";
import type { AuditTrail } from "../../governance/audit.ts";
import { GatewayError } from "../../schemas/errors.ts";
import { answerErrorsIn } from "../errors.ts";
import { analyticsAdminRoutes } from "./admin-analytics.ts";
import { adminBatchRoutes } from "./admin-batches.ts";
import { type AdminKeyRoutesOptions, adminKeyRoutes } from "./admin-keys.ts";

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
 * /admin/batches/…: every key's batch jobs, to list, cancel and download (admin-batches.ts).
 */
export const adminRoutes: FastifyPluginAsync<{
  cache: AnswerCache;
  analytics: AnalyticsAccess | undefined;
  keys: AdminKeyRoutesOptions;
  batches: BatchServices;
  audit: AuditTrail;
}> = async (app, options) => {
  app.setErrorHandler(answerErrorsIn("openai"));
  app.decorateRequest("audit", undefined);
  app.addHook("onRequest", async (request) => {
    app.authenticate(request, { sessions: true });
    if (!request.caller.admin)
      throw new GatewayError("permission", "this gateway key may not call the admin API");
  });
  // Every admin request is recorded, refused ones too: who, what, on what, from where, and how it ended.
  app.addHook("onResponse", async (request, reply) => options.audit.adminRequest(request, reply.statusCode));
  await app.register(analyticsAdminRoutes, { access: options.analytics });
  await app.register(adminKeyRoutes, options.keys);
  await app.register(adminBatchRoutes, { services: options.batches });
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
