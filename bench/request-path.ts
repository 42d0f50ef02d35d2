import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@clickhouse/client";
import { Pool } from "undici";
import type { ServiceEndpoints } from "../test/services/endpoints.ts";
import { benchProviderKey, timedChatCall } from "./chat-call.ts";
import { benchProcesses, cpuByLabel } from "./cpu.ts";
import { distributedSettings, startTopology, type Topology } from "./distributed-gateway.ts";
import { summarizeProfiles } from "./profile.ts";
import { type SettingOverride, withOverrides } from "./settings-overrides.ts";
import { openLoop, summary } from "./stats.ts";
import { spawnUpstream } from "./upstream.ts";

export interface RequestPathOptions {
  services: ServiceEndpoints;
  /** Partitions of each gateway topic. */
  partitions: number;
  /** Gateway settings over the bench's own (`--set`). */
  overrides: SettingOverride[];
  /** Unmeasured load first: the broker's JVM compiles its hot paths in its first minute of load. */
  warmupMs: number;
  /** Requests per second of the fixed-rate phases. */
  rate: number;
  phaseMs: number;
  sweepRates: number[];
  sweepMs: number;
  /** Length of the separate, profiled run. */
  profileMs: number;
}

/**
 * The request path end to end on real Kafka, Redis and ClickHouse: two ingress and two worker
 * processes (and the analytics sink) in front of an OpenAI emulator that answers at once. Every
 * latency is measured twice, straight to the emulator and through the gateway, at the same rate.
 */
export async function benchRequestPath(options: RequestPathOptions) {
  const { services } = options;
  const upstream = await spawnUpstream(benchProviderKey);
  const settings = withOverrides(
    distributedSettings(services, upstream.url, options.partitions),
    options.overrides,
  ) as ReturnType<typeof distributedSettings>;
  const topology = (profileDir?: string) => startTopology(settings, { ingresses: 2, workers: 2, profileDir });
  try {
    const main = await topology();
    const measurement = await measure(main, upstream.url, options).finally(() => main.stop());
    const stages = await stageBreakdown(
      settings.clickhouse,
      measurement.measuredFrom,
      measurement.measuredTo,
    );

    // The CPU profile comes from a run of its own: a profiler in the measured processes would slow them.
    const profileDir = mkdtempSync(join(tmpdir(), "gateway-profile-"));
    const profiledRun = await topology(profileDir);
    try {
      await openLoop(200, 3_000, profiledRun.call(false));
      await openLoop(options.rate, options.profileMs / 2, profiledRun.call(false));
      await openLoop(options.rate, options.profileMs / 2, profiledRun.call(true));
    } finally {
      await profiledRun.stop();
    }
    return {
      phases: measurement.phases,
      sweep: measurement.sweep,
      cpuPerRequest: measurement.cpuPerRequest,
      stages,
      profile: summarizeProfiles(profileDir),
    };
  } finally {
    upstream.stop();
  }
}

async function measure(topology: Topology, emulatorUrl: string, options: RequestPathOptions) {
  const direct = new Pool(new URL(emulatorUrl).origin, { connections: 512 });
  const directHeaders = { authorization: `Bearer ${benchProviderKey}` };
  const viaDirect = (stream: boolean) => (at: number) => timedChatCall(direct, directHeaders, stream, at);
  try {
    // Warm-up: connections, JIT (the broker's too), Kafka metadata, consumer assignments.
    await openLoop(200, options.warmupMs, topology.call(false));
    await openLoop(200, 2_000, topology.call(true));
    await openLoop(200, 2_000, viaDirect(false));

    const measuredFrom = Date.now();
    const directWhole = await openLoop(options.rate, options.phaseMs, viaDirect(false));
    const cpuBefore = cpuByLabel(benchProcesses);
    const gatewayWhole = await openLoop(options.rate, options.phaseMs, topology.call(false));
    const cpuAfter = cpuByLabel(benchProcesses);
    const requests = gatewayWhole.latencies.length + gatewayWhole.errors;
    const cpuPerRequest = Object.fromEntries(
      Object.keys(benchProcesses).map((label) => [
        label,
        ((cpuAfter[label] ?? 0) - (cpuBefore[label] ?? 0)) / requests,
      ]),
    );
    const phases = {
      directWhole,
      gatewayWhole,
      directStream: await openLoop(options.rate, options.phaseMs, viaDirect(true)),
      gatewayStream: await openLoop(options.rate, options.phaseMs, topology.call(true)),
    };
    const measuredTo = Date.now();

    const sweep: Array<{
      rate: number;
      direct: ReturnType<typeof summary>;
      gateway: ReturnType<typeof summary>;
      errors: number;
    }> = [];
    for (const rate of options.sweepRates) {
      const directRun = await openLoop(rate, options.sweepMs, viaDirect(false));
      const gatewayRun = await openLoop(rate, options.sweepMs, topology.call(false));
      sweep.push({
        rate,
        direct: summary(directRun.latencies),
        gateway: summary(gatewayRun.latencies),
        errors: gatewayRun.errors,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 3_000)); // the sink lands the last events
    return { phases, sweep, measuredFrom, measuredTo, cpuPerRequest };
  } finally {
    await direct.close();
  }
}

/** Where a request's time goes, from the attempt events the gateway itself recorded. */
async function stageBreakdown(
  clickhouse: { url: string; username: string; password: string; database: string },
  from: number,
  to: number,
) {
  const client = createClient(clickhouse);
  try {
    const result = await client.query({
      query: `SELECT
          stream,
          count() AS attempts,
          quantile(0.5)(toUnixTimestamp64Milli(started_at) - toUnixTimestamp64Milli(received_at)) AS queue_p50,
          quantile(0.99)(toUnixTimestamp64Milli(started_at) - toUnixTimestamp64Milli(received_at)) AS queue_p99,
          quantile(0.5)(toUnixTimestamp64Milli(first_token_at) - toUnixTimestamp64Milli(started_at)) AS provider_first_token_p50,
          quantile(0.5)(toUnixTimestamp64Milli(finished_at) - toUnixTimestamp64Milli(started_at)) AS worker_total_p50
        FROM attempts FINAL
        WHERE received_at BETWEEN fromUnixTimestamp64Milli({from:Int64}) AND fromUnixTimestamp64Milli({to:Int64})
        GROUP BY stream ORDER BY stream`,
      query_params: { from, to },
      format: "JSONEachRow",
    });
    return await result.json<Record<string, number | boolean>>();
  } finally {
    await client.close();
  }
}
