import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ServiceEndpoints } from "../../test/services/endpoints.ts";
import { type GatewayProcess, spawnGateway } from "../../test/support/processes.ts";
import { benchGatewayKey, benchModel, benchProviderKey } from "../chat-call.ts";
import { distributedSettings, startTopology } from "../distributed-gateway.ts";
import { type SettingOverride, withOverrides } from "../settings-overrides.ts";
import type { RunningTarget } from "./target.ts";

const headers = { authorization: `Bearer ${benchGatewayKey}` };

/**
 * Our gateway as one `ai-gateway start` process on its embedded defaults: the in-process bus and
 * an embedded ClickHouse (a child of the gateway, so counted in its CPU) in a fresh directory.
 */
export async function startEmbedded(
  node: string,
  upstreamUrl: string,
  overrides: SettingOverride[],
  nodeArgs: string[] = [],
): Promise<RunningTarget & { gateway: GatewayProcess }> {
  const dataDir = mkdtempSync(join(tmpdir(), "peers-embedded-"));
  const settings = {
    server: { host: "127.0.0.1", port: 0 },
    auth: { keys: [benchGatewayKey] },
    // Info: spawnGateway waits for the "gateway ready" line.
    log: { level: "info" },
    clickhouse: { dataDir },
    providers: [
      { name: "emulator", type: "openai", options: { baseUrl: upstreamUrl, apiKey: benchProviderKey } },
    ],
    models: [{ name: benchModel, provider: "emulator" }],
  };
  const gateway = await spawnGateway(withOverrides(settings, overrides), "all", { node, nodeArgs });
  return {
    gateway,
    origin: gateway.url,
    headers,
    pids: [gateway.child.pid as number],
    servicePids: [],
    async stop() {
      gateway.kill("SIGTERM");
      await gateway.exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Our gateway distributed, on the Kafka path: one ingress, two workers and the sink, each its own
 * process, on the real Kafka, Redis and ClickHouse of `services`, whose processes (`servicePids`)
 * count in its CPU: they do this target's work and no other's.
 */
export async function startOnKafka(
  node: string,
  upstreamUrl: string,
  services: ServiceEndpoints,
  servicePids: number[],
  partitions: number,
  overrides: SettingOverride[],
): Promise<RunningTarget> {
  const settings = withOverrides(distributedSettings(services, upstreamUrl, partitions), overrides);
  const topology = await startTopology(settings, { ingresses: 1, workers: 2, node });
  return {
    origin: topology.ingressUrls[0] as string,
    headers,
    pids: topology.pids,
    servicePids,
    stop: () => topology.stop(),
  };
}
