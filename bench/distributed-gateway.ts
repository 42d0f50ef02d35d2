import { Pool } from "undici";
import type { ServiceEndpoints } from "../test/services/endpoints.ts";
import { type GatewayProcess, spawnGateway } from "../test/support/processes.ts";
import { benchGatewayKey, benchModel, benchProviderKey, timedChatCall } from "./chat-call.ts";

/**
 * The gateway's settings for a distributed run on these services, in front of the emulator at
 * `upstreamUrl`: topics, keys and database of its own namespace, limits high enough that the
 * benchmark's rates never meet them.
 */
export function distributedSettings(services: ServiceEndpoints, upstreamUrl: string, partitions: number) {
  const namespace = `bench${Date.now()}`;
  return {
    server: { host: "127.0.0.1", port: 0 },
    auth: { keys: [benchGatewayKey] },
    log: { level: "info" },
    ingress: { maxInFlight: { interactive: 20_000, default: 20_000, batch: 20_000 } },
    workers: { concurrency: 1024 },
    kafka: { brokers: services.kafka.brokers, topicPrefix: `${namespace}.`, partitions },
    redis: { url: services.redis.url, keyPrefix: `${namespace}:` },
    clickhouse: { ...services.clickhouse, database: namespace },
    providers: [
      {
        name: "emulator",
        type: "openai",
        options: { baseUrl: upstreamUrl, apiKey: benchProviderKey, maxConnections: 512 },
      },
    ],
    models: [{ name: benchModel, provider: "emulator" }],
  };
}

export interface TopologyOptions {
  ingresses: number;
  workers: number;
  /** The Node binary of every process; this process's by default. */
  node?: string;
  /** Where V8's CPU profiler in the first worker and the first ingress writes; none: no profiler. */
  profileDir?: string;
}

export type Topology = Awaited<ReturnType<typeof startTopology>>;

/** The sink, the workers and the ingresses, each its own process; `call` takes the ingresses in turn. */
export async function startTopology(settings: Record<string, unknown>, options: TopologyOptions) {
  const profiled = (index: number) =>
    options.profileDir !== undefined && index === 0
      ? { node: options.node, nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${options.profileDir}`] }
      : { node: options.node };
  const processes: GatewayProcess[] = [];
  try {
    processes.push(await spawnGateway(settings, "sink", { node: options.node }));
    for (let index = 0; index < options.workers; index++)
      processes.push(await spawnGateway(settings, "worker", profiled(index)));
    for (let index = 0; index < options.ingresses; index++)
      processes.push(await spawnGateway(settings, "ingress", profiled(index)));
  } catch (error) {
    for (const process of processes) process.kill("SIGKILL");
    throw error;
  }
  const ingressUrls = processes.slice(-options.ingresses).map((ingress) => ingress.url);
  const pools = ingressUrls.map((url) => new Pool(url, { connections: 512 }));
  const headers = { authorization: `Bearer ${benchGatewayKey}` };
  let turn = 0;
  return {
    ingressUrls,
    pids: processes.map((process) => process.child.pid as number),
    /** Each process's HTTP origin (health, readiness, /metrics), in the order of `pids`. */
    urls: processes.map((process) => process.url),
    call: (stream: boolean) => (scheduledAt: number) =>
      timedChatCall(pools[turn++ % pools.length] as Pool, headers, stream, scheduledAt),
    async stop() {
      await Promise.all(pools.map((pool) => pool.close()));
      for (const process of processes) process.kill("SIGTERM");
      await Promise.all(processes.map((process) => process.exited));
    },
  };
}
