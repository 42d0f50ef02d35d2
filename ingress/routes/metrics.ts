import type { FastifyPluginAsync } from "fastify";
import type { Metrics } from "../../runtime/metrics.ts";

/** GET /metrics in Prometheus's text format, unauthenticated like the health checks: scrape it from inside. */
export const metricsRoutes: FastifyPluginAsync<{ metrics: Metrics }> = async (app, options) => {
  app.get("/metrics", async (_request, reply) => {
    reply.header("content-type", options.metrics.registry.contentType);
    return options.metrics.registry.metrics();
  });
};
