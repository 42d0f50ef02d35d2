import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { GatewayConfig } from "../config/schema.ts";
import type { Logger } from "../runtime/logger.ts";
import { type DependencyCheck, healthRoutes } from "./routes/health.ts";

export interface IngressOptions {
  config: GatewayConfig["server"];
  log: Logger;
  checks: readonly DependencyCheck[];
}

export interface Ingress {
  readonly app: FastifyInstance;
  /** Readiness turns false; in-flight requests keep going until `app.close()`. */
  stopAcceptingWork(): void;
}

/** The HTTP edge as a fastify instance, not yet listening (tests `inject` into it). */
export async function buildIngress(options: IngressOptions): Promise<Ingress> {
  let acceptingWork = true;
  const app = Fastify({
    loggerInstance: options.log.child({ component: "ingress" }) as FastifyBaseLogger,
    bodyLimit: options.config.bodyLimitBytes,
  });
  await app.register(healthRoutes, { checks: options.checks, isAcceptingWork: () => acceptingWork });
  return {
    app,
    stopAcceptingWork() {
      acceptingWork = false;
    },
  };
}
