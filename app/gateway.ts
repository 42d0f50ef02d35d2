import type { ClickHouseConnection } from "../analytics/clickhouse/connect.ts";
import { connectBus } from "../bus/connect.ts";
import type { GatewayConfig } from "../config/schema.ts";
import type { Banner } from "../runtime/banner.ts";
import type { Logger } from "../runtime/logger.ts";
import { createMetricsRegistry } from "../runtime/metrics.ts";
import { Shutdown } from "../runtime/shutdown.ts";
import { startTracing } from "../runtime/tracing.ts";
import { connectRoutingState } from "../workers/routing/state.ts";
import type { RunningWorker } from "../workers/worker.ts";
import { startCoordinator } from "./batch.ts";
import { connectCallServices } from "./call-services.ts";
import { serveHttp } from "./http.ts";
import { startIngress } from "./ingress.ts";
import { type ConfigSource, LiveConfig } from "./live-config.ts";
import type { GatewayProcess } from "./process.ts";
import { reloadOnChange } from "./reload-triggers.ts";
import { partsOf, type Role } from "./roles.ts";
import { connectAnalytics, startSink } from "./sink.ts";
import { startWorkerPart } from "./worker.ts";

/** Past the grace period for in-flight work, how long stopping the rest (commits, flushes, connections) may take. */
const shutdownMarginMs = 5000;

export interface RunningGateway {
  /** Where the HTTP edge listens, e.g. http://127.0.0.1:8080. */
  readonly url: string;
  readonly role: Role;
  readonly clickhouse: ClickHouseConnection | undefined;
  readonly worker: RunningWorker | undefined;
  /** What to show the operator once (the generated key), if any. */
  readonly announcement: Banner | undefined;
  /** Drains and stops every part, in the reverse order of start. */
  close(): Promise<void>;
}

/**
 * Starts the parts of `role`: each external service when configured, its embedded stand-in
 * otherwise. A part that fails to start stops the parts already started. With the `source` the
 * configuration was read from, the process reloads it on SIGHUP and when the file changes.
 */
export async function startGateway(
  config: GatewayConfig,
  log: Logger,
  role: Role = "all",
  source?: ConfigSource,
): Promise<RunningGateway> {
  const tracing = startTracing(config.tracing, role);
  const process: GatewayProcess = {
    config,
    log,
    metrics: createMetricsRegistry(),
    tracer: tracing.tracer,
    checks: [],
    shutdown: new Shutdown(log),
  };
  // Stopped last (parts stop in reverse): the spans of the shutdown itself are exported too.
  process.shutdown.add({
    name: "tracing",
    leftBehind: "spans not yet exported",
    stop: () => tracing.shutdown(),
  });
  // In-flight work has the grace period; stopping the rest (commits, flushes) a bounded margin.
  const close = () => process.shutdown.run(config.server.shutdownGraceMs + shutdownMarginMs);
  try {
    return { role, close, ...(await startParts(process, role, source)) };
  } catch (error) {
    await close();
    throw error;
  }
}

async function startParts(process: GatewayProcess, role: Role, source: ConfigSource | undefined) {
  const { config, log } = process;
  const parts = partsOf(role);
  // Before any part: a price file that cannot be read stops the start before anything connects.
  const live = new LiveConfig(config, { source, withProviders: parts.worker, log, metrics: process.metrics });
  const { routes } = live;
  const clickhouse = parts.sink ? await connectAnalytics(process) : undefined;
  const bus = await connectBus(config, log, process.metrics);
  process.shutdown.add({
    name: "bus",
    leftBehind:
      "events and results not yet handed to Kafka (their requests' claims keep attempt events for the next worker)",
    stop: () => bus.close(),
  });
  process.checks.push(...bus.checks);
  if (clickhouse) await startSink(process, bus, clickhouse);
  // Breakers and quotas: the workers' to use, the dashboard's to show (one instance in one process).
  const routingState = parts.worker || parts.ingress ? await connectRoutingState(config) : undefined;
  if (routingState) process.shutdown.add({ name: "routing state", stop: () => routingState.close() });
  const worker =
    routingState && parts.worker
      ? await startWorkerPart(process, bus, () => live.serving, routingState)
      : undefined;
  const services = parts.ingress || parts.batch ? await connectCallServices(process, bus, routes) : undefined;
  const coordinator =
    services && parts.batch ? await startCoordinator(process, bus, routes, services) : undefined;
  const edge =
    services && routingState && parts.ingress
      ? await startIngress(process, { bus, routes, routingState, services, coordinator, clickhouse })
      : { url: await serveHttp(process), announcement: undefined };
  if (source) {
    const stopReloading = reloadOnChange(source.file, (trigger) => live.reload(trigger), log);
    process.shutdown.add({ name: "configuration reloads", stop: async () => stopReloading() });
  }
  return { ...edge, clickhouse, worker };
}
