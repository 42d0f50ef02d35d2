import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmbeddedClickHouse } from "../../analytics/clickhouse/embedded-server.ts";
import { startLocalKafka } from "../../local-services/kafka.ts";
import { startLocalRedis } from "../../local-services/redis.ts";
import { dockerAvailable, startDockerClickHouse, startDockerKafka, startDockerRedis } from "./docker.ts";
import type { Provenance, RunningService, ServiceEndpoints, ServiceName } from "./endpoints.ts";

type Env = Record<string, string | undefined>;

export interface ProvisionedServices {
  endpoints: ServiceEndpoints;
  stop(): Promise<void>;
}

/**
 * Gives the test run real Kafka, ClickHouse and Redis, each from the first route that works:
 * endpoints from the environment, then a Docker engine (testcontainers), then local processes
 * started by our own scripts. `TEST_SERVICES=docker|local` forces one route for what the
 * environment does not give. Nothing is skipped: if a service cannot be had, this throws one
 * message naming what is missing for each.
 */
export async function provisionServices(env: Env = process.env): Promise<ProvisionedServices> {
  const forced = env.TEST_SERVICES;
  if (forced !== undefined && forced !== "docker" && forced !== "local" && forced !== "auto") {
    throw new Error(`TEST_SERVICES must be docker, local or auto, not "${forced}"`);
  }
  const route: Exclude<Provenance, "environment"> =
    forced === "docker" || forced === "local" ? forced : (await dockerAvailable()) ? "docker" : "local";
  const workDir = createWorkDir();

  const starters = {
    kafka: () => (route === "docker" ? startDockerKafka() : startLocalKafka(workDir)),
    clickhouse: () =>
      route === "docker"
        ? startDockerClickHouse()
        : startEmbeddedClickHouse({ dataDir: join(workDir, "clickhouse") }).then((server) => ({
            endpoint: { url: server.url, username: "default", password: "" },
            stop: () => server.stop(),
          })),
    redis: () => (route === "docker" ? startDockerRedis() : startLocalRedis(workDir)),
  };
  const given = {
    kafka: env.KAFKA_BROKERS
      ? { brokers: env.KAFKA_BROKERS.split(",").map((broker) => broker.trim()) }
      : undefined,
    clickhouse: env.CLICKHOUSE_URL
      ? {
          url: env.CLICKHOUSE_URL,
          username: env.CLICKHOUSE_USER ?? "default",
          password: env.CLICKHOUSE_PASSWORD ?? "",
        }
      : undefined,
    redis: env.REDIS_URL ? { url: env.REDIS_URL } : undefined,
  };

  const names: ServiceName[] = ["kafka", "clickhouse", "redis"];
  const outcomes = await Promise.allSettled(
    names.map(async (name): Promise<RunningService<unknown> & { provenance: Provenance }> => {
      const endpoint = given[name];
      if (endpoint) return { endpoint, stop: async () => {}, provenance: "environment" };
      return { ...(await starters[name]()), provenance: route };
    }),
  );

  const started = outcomes.flatMap((outcome) => (outcome.status === "fulfilled" ? [outcome.value] : []));
  const stop = async () => {
    await Promise.allSettled(started.map((service) => service.stop()));
    rmSync(workDir, { recursive: true, force: true });
  };
  const failures = outcomes.flatMap((outcome, index) =>
    outcome.status === "rejected" ? [`${names[index]}: ${(outcome.reason as Error).message}`] : [],
  );
  if (failures.length > 0) {
    await stop();
    throw new Error(
      `the tests need real Kafka, ClickHouse and Redis, and ${failures.length === 1 ? "one" : "some"} could not be had ` +
        `(route: ${route}; give KAFKA_BROKERS, CLICKHOUSE_URL, REDIS_URL to use your own):\n` +
        failures.map((failure) => `  - ${failure}`).join("\n"),
    );
  }

  const [kafka, clickhouse, redis] = started as [
    RunningService<ServiceEndpoints["kafka"]> & { provenance: Provenance },
    RunningService<ServiceEndpoints["clickhouse"]> & { provenance: Provenance },
    RunningService<ServiceEndpoints["redis"]> & { provenance: Provenance },
  ];
  return {
    endpoints: {
      kafka: kafka.endpoint,
      clickhouse: clickhouse.endpoint,
      redis: redis.endpoint,
      provenance: { kafka: kafka.provenance, clickhouse: clickhouse.provenance, redis: redis.provenance },
    },
    stop,
  };
}

const workDirPrefix = "ai-gateway-test-";

/**
 * A temp dir for this run's service data, marked with our pid. Dirs of runs that were killed
 * before their teardown (their pid is gone) are removed here; their services died with them.
 */
function createWorkDir(): string {
  for (const name of readdirSync(tmpdir()).filter((entry) => entry.startsWith(workDirPrefix))) {
    const dir = join(tmpdir(), name);
    let owner: number;
    try {
      owner = Number(readFileSync(join(dir, "owner.pid"), "utf8"));
    } catch {
      continue; // Being created by another run, or not ours.
    }
    if (!processExists(owner)) rmSync(dir, { recursive: true, force: true });
  }
  const dir = mkdtempSync(join(tmpdir(), workDirPrefix));
  writeFileSync(join(dir, "owner.pid"), String(process.pid));
  return dir;
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
