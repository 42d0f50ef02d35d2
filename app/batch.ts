import { randomUUID } from "node:crypto";
import { BatchCoordinator } from "../batches/coordinator.ts";
import { createBatchMetrics } from "../batches/metrics.ts";
import type { Bus } from "../bus/bus.ts";
import type { RouteTable } from "../config/routes.ts";
import type { CallServicesOfProcess } from "./call-services.ts";
import type { GatewayProcess } from "./process.ts";

/** A batch coordinator: feeds batch jobs' lines to the workers and stores their results. */
export async function startCoordinator(
  { config, log, metrics, shutdown }: GatewayProcess,
  bus: Bus,
  routes: RouteTable,
  { batchStore, cache, governance }: CallServicesOfProcess,
): Promise<BatchCoordinator> {
  const coordinator = new BatchCoordinator({
    id: `coordinator-${randomUUID().slice(0, 8)}`,
    bus,
    store: batchStore,
    routes,
    cache,
    config: config.batches,
    metrics: createBatchMetrics(metrics),
    log: log.child({ component: "batches" }),
    lines: { governance: governance.policy, keys: governance.keys },
  });
  await coordinator.start();
  shutdown.add({
    name: "batch coordinator",
    leftBehind: "its batches' leases, which lapse for another coordinator",
    stop: () => coordinator.stop(),
  });
  return coordinator;
}
