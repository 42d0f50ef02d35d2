import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { createClient } from "@clickhouse/client";
import { type ClickHouseConnection, connectClickHouse } from "../analytics/clickhouse/connect.ts";
import { runMigrations } from "../analytics/migrations/run.ts";
import { applyReaderAccess } from "../analytics/reader/access.ts";
import { connectReader } from "../analytics/reader/connect.ts";
import { applyRetention } from "../analytics/retention.ts";
import { startAnalyticsSink } from "../analytics/sink.ts";
import { connectBatchStore } from "../batches/connect.ts";
import { BatchCoordinator } from "../batches/coordinator.ts";
import { createBatchMetrics } from "../batches/metrics.ts";
import type { BatchStore } from "../batches/store.ts";
import { connectBus } from "../bus/connect.ts";
import { loadPrices } from "../config/pricing/price-table.ts";
import { createRouteTable } from "../config/routes.ts";
import type { GatewayConfig } from "../config/schema.ts";
import { type ConnectedGovernance, connectGovernance } from "../governance/connect.ts";
import { buildIngress } from "../ingress/app.ts";
import { createKeyring } from "../ingress/auth.ts";
import type { AnswerCache } from "../ingress/cache/answer-cache.ts";
import { connectAnswerCache } from "../ingress/cache/connect.ts";
import { Dispatcher } from "../ingress/dispatcher.ts";
import { createIngressMetrics } from "../ingress/metrics.ts";
import { createRedactor } from "../ingress/redact.ts";
import type { AnalyticsAccess } from "../ingress/routes/admin-analytics.ts";
import type { DependencyCheck } from "../ingress/routes/health.ts";
import { GatewayError } from "../schemas/errors.ts";
import { createProviders } from "../workers/providers/instances.ts";
import { type RunningWorker, startWorker } from "../workers/worker.ts";
import { announceGeneratedKey, keepGeneratedKey, readOrMakeGatewayKey } from "./generated-key.ts";
import type { Logger } from "./logger.ts";
import { createMetricsRegistry } from "./metrics.ts";
import { Shutdown } from "./shutdown.ts";
import { startTracing } from "./tracing.ts";

/** Past the grace period for in-flight work, how long stopping the rest (commits, flushes, connections) may take. */
const shutdownMarginMs = 5000;

/**
 * `all` runs every part in one process (the embedded default); the others split them across
 * processes: `ingress` (HTTP/WebSocket edge), `worker` (provider calls), `sink` (events → ClickHouse),
 * `batch` (the coordinator of batch jobs: feeds their lines to the workers, stores their results).
 */
export const roles = ["all", "ingress", "worker", "sink", "batch"] as const;
export type Role = (typeof roles)[number];

export interface RunningGateway {
  /** Where the HTTP edge listens, e.g. http://127.0.0.1:8080. */
  readonly url: string;
  readonly role: Role;
  readonly clickhouse: ClickHouseConnection | undefined;
  readonly worker: RunningWorker | undefined;
  /** Text to show the operator once (the generated key), if any. */
  readonly announcement: string | undefined;
  /** Drains and stops every part, in the reverse order of start. */
  close(): Promise<void>;
}

/**
 * Starts the parts of `role`: each external service when configured, its embedded stand-in
 * otherwise. A part that fails to start stops the parts already started.
 */
export async function startGateway(
  config: GatewayConfig,
  log: Logger,
  role: Role = "all",
): Promise<RunningGateway> {
  const shutdown = new Shutdown(log);
  const checks: DependencyCheck[] = [];
  const metrics = createMetricsRegistry();
  // In-flight work has the grace period; stopping the rest (commits, flushes) a bounded margin.
  const closeAll = () => shutdown.run(config.server.shutdownGraceMs + shutdownMarginMs);
  const servesInference = role === "all" || role === "ingress";
  const runsSink = role === "all" || role === "sink";
  const coordinatesBatches = role === "all" || role === "batch";
  // Closed last (parts stop in reverse): the spans of the shutdown itself are flushed too.
  const tracing = startTracing(config.tracing, role);
  shutdown.add({ name: "tracing", leftBehind: "spans not yet exported", stop: () => tracing.shutdown() });

  try {
    let clickhouse: ClickHouseConnection | undefined;
    if (runsSink) {
      clickhouse = await connectClickHouse(config.clickhouse, config.analytics.query, log);
      const connection = clickhouse;
      shutdown.add({ name: "ClickHouse connection", stop: () => connection.close() });
      checks.push({ name: "clickhouse", check: () => connection.ping() });
      await runMigrations(connection.client, log);
      await applyRetention(connection.client, config.analytics, log);
      await applyReaderAccess(connection.client, config.clickhouse.database, config.analytics.query, log);
    }

    const bus = await connectBus(config, log, metrics);
    shutdown.add({
      name: "bus",
      leftBehind:
        "events and results not yet handed to Kafka (their requests' claims keep attempt events for the next worker)",
      stop: () => bus.close(),
    });
    checks.push(...bus.checks);
    const routes = createRouteTable(config.models, loadPrices(config));

    if (clickhouse) {
      const sink = await startAnalyticsSink(
        bus.createEventConsumer(),
        clickhouse.client,
        log.child({ component: "sink" }),
      );
      shutdown.add({
        name: "analytics sink",
        leftBehind: "uncommitted offsets: the next sink stores those events, exactly once",
        stop: () => sink.stop(),
      });
    }

    let worker: RunningWorker | undefined;
    if (role === "all" || role === "worker") {
      worker = await startWorker({
        bus,
        config: config.workers,
        routing: config.routing,
        routes,
        providers: createProviders(config.providers),
        metrics,
        requestLag: bus.requestLag,
        tracer: tracing.tracer,
        log,
        lostCallOutputTokens: config.governance.defaultMaxOutputTokens,
      });
      const running = worker;
      shutdown.add({
        name: "worker",
        leftBehind:
          "uncommitted offsets of finished requests: Kafka redelivers them, their claims refuse them",
        stop: () => running.stop(config.server.shutdownGraceMs),
      });
    }

    let batchStore: BatchStore | undefined;
    if (servesInference || coordinatesBatches) {
      const connected = await connectBatchStore(config, log);
      shutdown.add({ name: "batch store", stop: () => connected.close() });
      batchStore = connected.store;
    }
    // The coordinator uses the answer cache as the ingress does: lines of cached routes read and fill it.
    let cache: AnswerCache | undefined;
    if (servesInference || coordinatesBatches) {
      const answers = await connectAnswerCache(config, log);
      shutdown.add({ name: "answer cache", stop: () => answers.close() });
      cache = answers.cache;
    }
    // Keys, teams and their counters: the edge authenticates and admits with them, the batch
    // coordinator governs lines with them.
    let governance: ConnectedGovernance | undefined;
    if (servesInference || coordinatesBatches) {
      const connected = await connectGovernance(config, routes, bus.events, log);
      shutdown.add({ name: "governance", stop: () => connected.close() });
      governance = connected;
    }
    let coordinator: BatchCoordinator | undefined;
    if (coordinatesBatches && batchStore) {
      const running = new BatchCoordinator({
        id: `coordinator-${randomUUID().slice(0, 8)}`,
        bus,
        store: batchStore,
        routes,
        cache,
        config: config.batches,
        metrics: createBatchMetrics(metrics),
        log: log.child({ component: "batches" }),
        lines: governance && { governance: governance.policy, keys: governance.keys },
      });
      await running.start();
      shutdown.add({
        name: "batch coordinator",
        leftBehind: "its batches' leases, which lapse for another coordinator",
        stop: () => running.stop(),
      });
      coordinator = running;
    }

    let dispatcher: Dispatcher | undefined;
    let generated: ReturnType<typeof readOrMakeGatewayKey> | undefined;
    if (servesInference) {
      const receiver = await bus.createReplyReceiver();
      shutdown.add({ name: "reply receiver", stop: () => receiver.close() });
      dispatcher = new Dispatcher(bus, receiver, config.ingress, log.child({ component: "dispatcher" }));
      await dispatcher.start();
      if (config.auth.keys.length === 0 && !config.auth.masterKey)
        generated = readOrMakeGatewayKey(config.auth.generatedKeyFile);
    }

    // The admin analytics API uses the sink's ClickHouse in this process, else the configured
    // server, if any: admin SQL and reports as the reader user, erasures as the gateway's own.
    let analytics: AnalyticsAccess | undefined;
    if (servesInference && (clickhouse || config.clickhouse.url)) {
      const owner =
        clickhouse?.client ??
        createClient({
          url: config.clickhouse.url,
          username: config.clickhouse.username,
          password: config.clickhouse.password,
          database: config.clickhouse.database,
        });
      if (!clickhouse) shutdown.add({ name: "admin SQL connection", stop: () => owner.close() });
      const reader = connectReader(
        clickhouse?.url ?? config.clickhouse.url,
        config.clickhouse.database,
        clickhouse?.reader?.password ?? config.analytics.query.password,
      );
      if ("client" in reader) shutdown.add({ name: "admin SQL reader", stop: () => reader.client.close() });
      analytics = { owner, reader };
    }

    const batches = batchStore && {
      store: batchStore,
      routes,
      cancels: bus.cancels,
      config: config.batches,
      bodyDepthLimit: config.server.bodyDepthLimit,
      changed: () => void coordinator?.tick(),
    };
    const ingress = await buildIngress({
      config: config.server,
      log,
      checks,
      metrics,
      inference: dispatcher &&
        cache &&
        governance &&
        batches && {
          batches,
          keyring: createKeyring({
            keys: config.auth.keys,
            masterKey: config.auth.masterKey,
            generatedHashes: generated?.hashes,
            store: governance.keys,
          }),
          admin: { admin: governance.admin, ledger: governance.policy.ledger },
          audit: governance.audit,
          routes,
          analytics,
          services: {
            dispatcher,
            routes,
            cache,
            metrics: createIngressMetrics(metrics),
            defaultPriority: config.ingress.defaultPriority,
            tracer: tracing.tracer,
            governance: governance.policy,
            storedContent: config.analytics.content.store
              ? createRedactor(config.analytics.content.redact)
              : undefined,
          },
        },
    });
    const draining = dispatcher;
    shutdown.add({
      name: "ingress",
      leftBehind: "requests still open after the grace period, ended with an error",
      stop: async () => {
        ingress.stopAcceptingWork();
        const closed = ingress.app.close();
        await drain(draining, config.server.shutdownGraceMs);
        await closed;
      },
    });
    await ingress.app.listen({ host: config.server.host, port: config.server.port });
    const url = localUrl(ingress.app.server.address());
    // A key made on this start has its hash kept only now, when nothing else can fail, and the
    // caller shows it next: a start that fails earlier (a port in use) keeps no hash, so the next
    // one makes and shows a key instead of accepting only a key nobody saw. Kept before it is
    // shown, so that a hash that cannot be written fails the start rather than show a key that
    // would stop working at the next one.
    if (generated?.created) keepGeneratedKey(config.auth.generatedKeyFile, generated.created);

    return {
      url,
      role,
      clickhouse,
      worker,
      announcement:
        generated?.created && announceGeneratedKey(generated.created, config.auth.generatedKeyFile, url),
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/** Lets in-flight requests finish within the grace period, then ends the rest with an error event. */
async function drain(dispatcher: Dispatcher | undefined, graceMs: number): Promise<void> {
  if (!dispatcher) return;
  const deadline = Date.now() + graceMs;
  while (dispatcher.inFlight > 0 && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 50));
  dispatcher.abortAll(
    new GatewayError("overloaded", "the gateway is shutting down; retry the request", { retryAfterMs: 1000 }),
  );
}

/** A URL a local client can use, also when the server listens on every interface. */
function localUrl(address: AddressInfo | string | null): string {
  if (address === null || typeof address === "string")
    throw new Error("the HTTP server is not listening on TCP");
  const wildcard = address.address === "0.0.0.0" || address.address === "::";
  const host = wildcard ? "127.0.0.1" : address.family === "IPv6" ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}
