import type { TestProject } from "vitest/node";
import { provisionServices } from "./services/provision.ts";

/** Starts the real services once for the whole run; vitest calls the returned teardown at the end. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const services = await provisionServices();
  process.stdout.write(
    `real services ready in ${Date.now() - started} ms: ` +
      `kafka ${services.endpoints.kafka.brokers.join(",")} (${services.endpoints.provenance.kafka}), ` +
      `clickhouse ${services.endpoints.clickhouse.url} (${services.endpoints.provenance.clickhouse}), ` +
      `redis ${services.endpoints.redis.url} (${services.endpoints.provenance.redis})\n`,
  );
  project.provide("services", services.endpoints);
  return () => services.stop();
}
