import { createHash } from "node:crypto";
import type { ClickHouseConnection } from "../analytics/clickhouse/connect.ts";
import type { BatchCoordinator } from "../batches/coordinator.ts";
import type { Bus } from "../bus/bus.ts";
import { Dispatcher } from "../calls/dispatcher.ts";
import { createIngressMetrics } from "../calls/metrics.ts";
import { createRedactor } from "../calls/redact.ts";
import type { RouteTable } from "../config/routes.ts";
import {
  announceGeneratedKey,
  keepGeneratedKey,
  makesItsOwnKey,
  readOrMakeGatewayKey,
} from "../governance/keys/generated-key.ts";
import { createKeyring, hashKey } from "../governance/keys/keyring.ts";
import { sessionSeal } from "../ingress/session.ts";
import type { RoutingState } from "../workers/routing/state.ts";
import { analyticsAccess } from "./analytics-access.ts";
import type { CallServicesOfProcess } from "./call-services.ts";
import { serveHttp } from "./http.ts";
import type { GatewayProcess } from "./process.ts";

export interface IngressParts {
  bus: Bus;
  routes: RouteTable;
  /** The breakers and quotas the workers share, shown on the dashboard. */
  routingState: RoutingState;
  services: CallServicesOfProcess;
  /** The coordinator in this process, told at once when a batch is created or cancelled. */
  coordinator: BatchCoordinator | undefined;
  /** The sink's ClickHouse in this process, for the admin analytics API. */
  clickhouse: ClickHouseConnection | undefined;
}

/**
 * The HTTP and WebSocket edge: answers calls through the bus, and serves the admin API.
 * Returns where it listens, and the generated key to show once if this start made one.
 */
export async function startIngress(process: GatewayProcess, parts: IngressParts) {
  const { config, log, shutdown } = process;
  const { bus, routes, services } = parts;
  const receiver = await bus.createReplyReceiver();
  shutdown.add({ name: "reply receiver", stop: () => receiver.close() });
  const dispatcher = new Dispatcher(bus, receiver, config.ingress, log.child({ component: "dispatcher" }));
  await dispatcher.start();
  const generated = makesItsOwnKey(config.auth)
    ? readOrMakeGatewayKey(config.auth.generatedKeyFile)
    : undefined;
  const { governance } = services;
  const url = await serveHttp(
    process,
    {
      batches: {
        store: services.batchStore,
        routes,
        cancels: bus.cancels,
        config: config.batches,
        bodyDepthLimit: config.server.bodyDepthLimit,
        changed: () => void parts.coordinator?.tick(),
      },
      keyring: createKeyring({
        keys: config.auth.keys,
        masterKey: config.auth.masterKey,
        generatedHashes: generated?.hashes,
        store: governance.keys,
      }),
      admin: { admin: governance.admin, ledger: governance.policy.ledger },
      dashboard: {
        sessions: sessionSeal(sessionSecret(config, generated?.hashes)),
        sessionTtlMs: config.dashboard.sessionHours * 3_600_000,
        routingState: parts.routingState,
      },
      audit: governance.audit,
      routes,
      analytics: analyticsAccess(process, parts.clickhouse),
      services: {
        dispatcher,
        routes,
        cache: services.cache,
        metrics: createIngressMetrics(process.metrics),
        defaultPriority: config.ingress.defaultPriority,
        tracer: process.tracer,
        governance: governance.policy,
        responses: services.responses,
        storedContent: config.analytics.content.store
          ? createRedactor(config.analytics.content.redact)
          : undefined,
      },
    },
    dispatcher,
  );
  // A key made on this start has its hash kept only now, when nothing else can fail, and the
  // caller shows it next: a start that fails earlier (a port in use) keeps no hash, so the next
  // one makes and shows a key instead of accepting only a key nobody saw. Kept before it is
  // shown, so that a hash that cannot be written fails the start rather than show a key that
  // would stop working at the next one.
  if (generated?.created) keepGeneratedKey(config.auth.generatedKeyFile, generated.created);
  const announcement =
    generated?.created && announceGeneratedKey(generated.created, config.auth.generatedKeyFile, url);
  return { url, announcement: announcement || undefined };
}

/**
 * The key sealing dashboard sessions, the same on every ingress of a deployment: the configured
 * one, else one derived from the admin key they share (the master key, else the generated key,
 * else the configured keys).
 */
function sessionSecret(config: GatewayProcess["config"], generatedHashes: string[] | undefined): Buffer {
  const basis =
    config.dashboard.sessionSecret ||
    (config.auth.masterKey ? hashKey(config.auth.masterKey) : generatedHashes?.[0]) ||
    config.auth.keys
      .map(({ key }) => hashKey(key))
      .sort()
      .join(",");
  return createHash("sha256").update("ai-gateway dashboard sessions\0").update(basis).digest();
}
