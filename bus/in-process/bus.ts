import type { GatewayConfig } from "../../config/schema.ts";
import type { Bus } from "../bus.ts";
import { createInProcessCoordination } from "./coordination.ts";
import { createInProcessMessaging } from "./messaging.ts";

/** The bus of a single process: nothing to install, nothing shared with other processes. */
export function createInProcessBus(sink: GatewayConfig["analytics"]["sink"]): Bus {
  const messaging = createInProcessMessaging(sink);
  const coordination = createInProcessCoordination();
  return {
    kind: "in-process",
    ...messaging,
    ...coordination,
    async close() {
      await Promise.all([messaging.close(), coordination.close()]);
    },
  };
}
