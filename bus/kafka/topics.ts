import type { Admin } from "kafkajs";
import type { GatewayConfig } from "../../config/schema.ts";
import { type Priority, priorities } from "../../schemas/request-envelope.ts";

export function requestTopic(config: GatewayConfig["kafka"], priority: Priority): string {
  return `${config.topicPrefix}requests.${priority}`;
}

/** The analytics events of each kind, read by the sink. */
export function eventsTopic(config: GatewayConfig["kafka"], kind: "attempt" | "request"): string {
  return `${config.topicPrefix}${kind}-events`;
}

/** Finished lines of batch jobs, read by the batch coordinators. */
export function batchResultsTopic(config: GatewayConfig["kafka"]): string {
  return `${config.topicPrefix}batch-results`;
}

function isEventsTopic(config: GatewayConfig["kafka"], topic: string): boolean {
  return topic === eventsTopic(config, "attempt") || topic === eventsTopic(config, "request");
}

export function priorityOfTopic(config: GatewayConfig["kafka"], topic: string): Priority | undefined {
  return priorities.find((priority) => requestTopic(config, priority) === topic);
}

/** Creates the gateway's topics where missing (idempotent; every process may call it at start). */
export async function ensureTopics(admin: Admin, config: GatewayConfig["kafka"]): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = [
    ...priorities.map((priority) => requestTopic(config, priority)),
    eventsTopic(config, "attempt"),
    eventsTopic(config, "request"),
    batchResultsTopic(config),
  ].filter((topic) => !existing.has(topic));
  if (missing.length === 0) return;
  await admin.createTopics({
    waitForLeaders: true,
    topics: missing.map((topic) => ({
      topic,
      numPartitions: isEventsTopic(config, topic) ? config.eventPartitions : config.partitions,
      replicationFactor: config.replicationFactor,
    })),
  });
}
