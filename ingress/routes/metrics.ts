import type { FastifyPluginAsync } from "fastify";
import type { Registry } from "prom-client";

/** GET /metrics in Prometheus's text format, unauthenticated like the health checks: scrape it from inside. */
export const metricsRoutes: FastifyPluginAsync<{ registry: Registry }> = async (app, options) => {
  app.get("/metrics", async (_request, reply) => {
    reply.header("content-type", options.registry.contentType);
    return options.registry.metrics();
  });
};
