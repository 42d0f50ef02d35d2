import type { GatewayConfig } from "../../../config/schema.ts";

/** What every @platformatic/kafka client of the gateway is given: the brokers and our client id. */
export function platformaticBaseOptions(config: GatewayConfig["kafka"]) {
  return { clientId: config.clientId, bootstrapBrokers: config.brokers };
}
