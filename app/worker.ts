import type { ConnectedBus } from "../bus/connect.ts";
import type { RoutingState } from "../workers/routing/state.ts";
import { type RunningWorker, startWorker, type WorkerOptions } from "../workers/worker.ts";
import type { GatewayProcess } from "./process.ts";

/** A worker: requests from the bus, provider calls, replies and attempt events back. */
export async function startWorkerPart(
  { config, log, metrics, tracer, shutdown }: GatewayProcess,
  bus: ConnectedBus,
  serving: WorkerOptions["serving"],
  routingState: RoutingState,
): Promise<RunningWorker> {
  const worker = await startWorker({
    bus,
    config: config.workers,
    routing: config.routing,
    routingState,
    serving,
    metrics,
    requestLag: bus.requestLag,
    tracer,
    log,
    lostCallOutputTokens: config.governance.defaultMaxOutputTokens,
  });
  shutdown.add({
    name: "worker",
    leftBehind: "uncommitted offsets of finished requests: Kafka redelivers them, their claims refuse them",
    stop: () => worker.stop(config.server.shutdownGraceMs),
  });
  return worker;
}
