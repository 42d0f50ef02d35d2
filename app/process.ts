import type { Tracer } from "@opentelemetry/api";
import type { Registry } from "prom-client";
import type { GatewayConfig } from "../config/schema.ts";
import type { DependencyCheck } from "../ingress/routes/health.ts";
import type { Logger } from "../runtime/logger.ts";
import type { Shutdown } from "../runtime/shutdown.ts";

/** What every part of a gateway process is started with, and where it says how to stop it. */
export interface GatewayProcess {
  config: GatewayConfig;
  log: Logger;
  metrics: Registry;
  tracer: Tracer;
  /** Health checks of what the process depends on, served at /readyz. */
  checks: DependencyCheck[];
  /** Each part adds how it stops; they stop in the reverse order of start. */
  shutdown: Shutdown;
}
