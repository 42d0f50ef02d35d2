import { stringDeserializer } from "@platformatic/kafka";
import type { GatewayConfig } from "../../../config/schema.ts";

/** What every @platformatic/kafka client of the gateway is given: the brokers and our client id. */
export function platformaticBaseOptions(config: GatewayConfig["kafka"]) {
  return { clientId: config.clientId, bootstrapBrokers: config.brokers };
}

/**
 * What each consumer group member of ours is given: the session `kafka.sessionTimeoutMs` names,
 * heartbeats ten times a session, commits by hand, header names read as strings (to find the
 * schema version) while keys and values stay bytes.
 */
export function platformaticGroupOptions(config: GatewayConfig["kafka"], groupId: string) {
  return {
    ...platformaticBaseOptions(config),
    groupId,
    sessionTimeout: config.sessionTimeoutMs,
    heartbeatInterval: Math.max(500, Math.floor(config.sessionTimeoutMs / 10)),
    autocommit: false,
    deserializers: { headerKey: stringDeserializer },
  };
}
