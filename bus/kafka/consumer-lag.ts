import type { Admin } from "kafkajs";
import type { GatewayConfig } from "../../config/schema.ts";
import { type Priority, priorities } from "../../schemas/request-envelope.ts";
import { requestTopic, workerGroup } from "./topics.ts";

/**
 * The requests of each priority's topic the workers' consumer group has not committed: those
 * still waiting in Kafka plus those workers hold (queued or running), since a worker commits a
 * partition only up to its first unfinished request. A partition the group never committed is
 * read from its start. Two admin round trips per topic, so cheap enough for every scrape.
 */
export async function requestLag(
  admin: Admin,
  config: GatewayConfig["kafka"],
): Promise<Record<Priority, number>> {
  const topics = priorities.map((priority) => requestTopic(config, priority));
  const [committed, ...ends] = await Promise.all([
    admin.fetchOffsets({ groupId: workerGroup(config), topics }),
    ...topics.map((topic) => admin.fetchTopicOffsets(topic)),
  ]);
  const lag = Object.fromEntries(priorities.map((priority) => [priority, 0])) as Record<Priority, number>;
  for (const [index, priority] of priorities.entries()) {
    const commits = committed.find((entry) => entry.topic === topics[index])?.partitions ?? [];
    for (const end of ends[index] ?? []) {
      const commit = Number(commits.find((entry) => entry.partition === end.partition)?.offset ?? -1);
      lag[priority] += Number(end.high) - (commit >= 0 ? commit : Number(end.low));
    }
  }
  return lag;
}
