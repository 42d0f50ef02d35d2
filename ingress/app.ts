import websocket from "@fastify/websocket";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import type { Registry } from "prom-client";
import type { AnalyticsAccess } from "../analytics/reader/run.ts";
import type { BatchServices } from "../batches/service.ts";
import { anthropicCountTokens } from "../calls/apis/anthropic-messages/count.ts";
import { anthropicMessages } from "../calls/apis/anthropic-messages/index.ts";
import type { InboundApi } from "../calls/apis/api.ts";
import { depthError } from "../calls/apis/depth.ts";
import { openAIChat } from "../calls/apis/openai-chat/index.ts";
import { openAIEmbeddings } from "../calls/apis/openai-embeddings/index.ts";
import { openAIResponses } from "../calls/apis/openai-responses/index.ts";
import type { CallServices } from "../calls/call.ts";
import type { CountApi } from "../calls/count.ts";
import { type ApiShape, errorBody, errorToAnswer } from "../calls/errors.ts";
import type { RouteTable } from "../config/routes.ts";
import type { GatewayConfig } from "../config/schema.ts";
import type { AuditTrail } from "../governance/audit.ts";
import type { Keyring } from "../governance/keys/keyring.ts";
import type { Logger } from "../runtime/logger.ts";
import { GatewayError } from "../schemas/errors.ts";
import { authentication } from "./auth.ts";
import { sendErrorIn } from "./errors.ts";
import { adminRoutes } from "./routes/admin.ts";
import type { AdminKeyRoutesOptions } from "./routes/admin-keys.ts";
import { batchRoutes } from "./routes/batches.ts";
import { countTokensRoutes } from "./routes/count-tokens.ts";
import type { DeploymentsOptions } from "./routes/dashboard/deployments.ts";
import { dashboardRoutes } from "./routes/dashboard/index.ts";
import { type DependencyCheck, healthRoutes } from "./routes/health.ts";
import { inferenceRoutes } from "./routes/inference.ts";
import { messageBatchRoutes } from "./routes/message-batches.ts";
import { metricsRoutes } from "./routes/metrics.ts";
import { modelRoutes } from "./routes/models.ts";
import { responseRoutes } from "./routes/responses.ts";
import { onSocketError, webSocketRoutes } from "./routes/websocket.ts";
import type { SessionSeal } from "./session.ts";

/** The inbound APIs this gateway speaks; adding one is a folder under apis/ and a line here. */
export const inboundApis = [
  openAIChat,
  anthropicMessages,
  openAIResponses,
  openAIEmbeddings,
] as ReadonlyArray<InboundApi<unknown>>;

/** The APIs' counts of input tokens. */
export const countApis = [anthropicCountTokens] as ReadonlyArray<CountApi<unknown>>;

export interface IngressOptions {
  config: GatewayConfig["server"];
  log: Logger;
  checks: readonly DependencyCheck[];
  /** The process's metrics, served at GET /metrics by every role. */
  metrics: Registry;
  /** The inference APIs; absent in a process that only runs workers (it still answers health checks and metrics). */
  inference?: {
    keyring: Keyring;
    routes: RouteTable;
    services: CallServices;
    analytics?: AnalyticsAccess;
    batches: BatchServices;
    /** Keys and teams, for the admin API; every admin request goes to the audit log. */
    admin: AdminKeyRoutesOptions;
    audit: AuditTrail;
    /** How dashboard sessions are sealed and how long they last; the live state it shows. */
    dashboard: {
      sessions: SessionSeal;
      sessionTtlMs: number;
      routingState: DeploymentsOptions["routingState"];
    };
  };
}

export interface Ingress {
  readonly app: FastifyInstance;
  /** Readiness turns false; in-flight requests keep going until `app.close()`. */
  stopAcceptingWork(): void;
}

/**
 * The error shape for a request no API route answers: Anthropic's for its URLs (under
 * /v1/messages/, the legacy /v1/complete) or when it carries `anthropic-version`, as Anthropic's
 * SDKs and Claude Code always do, so that their error classes apply; else OpenAI's.
 */
function shapeOfRequest(request: { url: string; headers: Record<string, unknown> }): ApiShape {
  const anthropic =
    request.url.startsWith("/v1/messages/") ||
    request.url.startsWith("/v1/complete") ||
    request.headers["anthropic-version"] !== undefined;
  return anthropic ? "anthropic" : "openai";
}

/** The HTTP edge as a fastify instance, not yet listening (tests `inject` into it). */
export async function buildIngress(options: IngressOptions): Promise<Ingress> {
  let acceptingWork = true;
  const app = Fastify({
    loggerInstance: options.log.child({ component: "ingress" }) as FastifyBaseLogger,
    bodyLimit: options.config.bodyLimitBytes,
    // Streams may run for minutes; the request timeout of the gateway bounds them instead.
    requestTimeout: 0,
    // Two log lines per request cost more than the rest of the edge; each request is recorded as
    // an event in ClickHouse instead, and logged here only at debug level.
    logController: new LogController({ disableRequestLogging: true }),
  });
  app.addHook("onResponse", async (request, reply) => {
    request.log.debug(
      { method: request.method, url: request.url, status: reply.statusCode, ms: reply.elapsedTime },
      "request",
    );
  });
  // Every API here takes JSON; any other body type is refused with a 415 rather than parsed as text.
  app.removeContentTypeParser("text/plain");
  // fastify's own JSON parsing, then the depth check (apis/depth.ts): no route sees a body too deep to handle.
  const parseJson = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, text, done) =>
    parseJson(request, text as string, (error, body) => {
      if (error) return done(error, undefined);
      const tooDeep = depthError(body, options.config.bodyDepthLimit);
      if (tooDeep) return done(tooDeep, undefined);
      done(null, body);
    }),
  );
  // Routes of an API answer in its shape; the rest (unknown URLs, health, metrics) in the URL's.
  app.setErrorHandler((error, request, reply) =>
    sendErrorIn(reply, errorToAnswer(error, request.log), shapeOfRequest(request)),
  );
  await app.register(healthRoutes, { checks: options.checks, isAcceptingWork: () => acceptingWork });
  await app.register(metricsRoutes, { registry: options.metrics });
  if (options.inference) {
    const { keyring, routes, services, analytics, batches, admin, audit, dashboard } = options.inference;
    // A message is held to the body limit (the library's own is 100 MiB); a larger one closes the socket with 1009.
    await app.register(websocket, {
      options: { maxPayload: options.config.bodyLimitBytes },
      errorHandler: onSocketError,
    });
    await app.register(authentication, { keyring, sessions: dashboard.sessions });
    await app.register(inferenceRoutes, { apis: inboundApis, services });
    await app.register(countTokensRoutes, { apis: countApis, services });
    await app.register(modelRoutes, { routes });
    await app.register(responseRoutes, { store: services.responses });
    await app.register(adminRoutes, { cache: services.cache, analytics, keys: admin, batches, audit });
    await app.register(webSocketRoutes, {
      apis: inboundApis,
      services,
      bodyDepthLimit: options.config.bodyDepthLimit,
    });
    await app.register(batchRoutes, { services: batches });
    await app.register(messageBatchRoutes, { services: batches });
    await app.register(dashboardRoutes, {
      keyring,
      analytics,
      budgets: admin,
      sessions: dashboard.sessions,
      sessionTtlMs: dashboard.sessionTtlMs,
      deployments: { routes, routingState: dashboard.routingState },
    });
  }
  app.setNotFoundHandler((request, reply) => {
    const message = `unknown request URL: ${request.method} ${request.url.split("?")[0]}`;
    if (shapeOfRequest(request) === "anthropic")
      return reply.code(404).send(errorBody(new GatewayError("not_found", message), "anthropic"));
    return reply
      .code(404)
      .send(errorBody(new GatewayError("invalid_request", message, { status: 404 }), "openai"));
  });
  return {
    app,
    stopAcceptingWork() {
      acceptingWork = false;
    },
  };
}
