import { connectBatchStore } from "../batches/connect.ts";
import type { Bus } from "../bus/bus.ts";
import { connectAnswerCache } from "../calls/cache/connect.ts";
import { connectResponseStore } from "../calls/stored-responses/connect.ts";
import type { RouteTable } from "../config/routes.ts";
import { connectGovernance } from "../governance/connect.ts";
import type { GatewayProcess } from "./process.ts";

/**
 * What the edge and the batch coordinator both take calls through: the batch store, the answer
 * cache (lines of cached routes read and fill it too), governance (keys, teams, their counters)
 * and the Responses API's stored responses.
 */
export async function connectCallServices(process: GatewayProcess, bus: Bus, routes: RouteTable) {
  const { config, log, shutdown } = process;
  const batches = await connectBatchStore(config, log);
  shutdown.add({ name: "batch store", stop: () => batches.close() });
  const answers = await connectAnswerCache(config, log);
  shutdown.add({ name: "answer cache", stop: () => answers.close() });
  const governance = await connectGovernance(config, routes, bus.events, log);
  shutdown.add({ name: "governance", stop: () => governance.close() });
  const responses = await connectResponseStore(config, log);
  shutdown.add({ name: "response store", stop: () => responses.close() });
  return { batchStore: batches.store, cache: answers.cache, governance, responses: responses.store };
}

export type CallServicesOfProcess = Awaited<ReturnType<typeof connectCallServices>>;
