import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@clickhouse/client";
import { Pool } from "undici";
import type { ServiceEndpoints } from "../test/services/endpoints.ts";
import { type GatewayProcess, spawnGateway } from "../test/support/processes.ts";
import { benchProcesses, cpuByLabel } from "./cpu.ts";
import { summarizeProfiles } from "./profile.ts";
import { openLoop, summary } from "./stats.ts";

const providerKey = "sk-bench-0123456789";
const gatewayKey = "bench-key-0123456789";
const model = "bench-model";

export interface RequestPathOptions {
  services: ServiceEndpoints;
  /** Partitions of each gateway topic. */
  partitions: number;
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
  const emulator = spawn(process.execPath, ["--import", "tsx", "bench/emulator.ts", providerKey], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const emulatorUrl = await firstJsonLine<{ url: string }>(emulator).then((line) => line.url);
  const namespace = `bench${Date.now()}`;
  const settings = {
    server: { host: "127.0.0.1", port: 0 },
    auth: { keys: [gatewayKey] },
    log: { level: "info" },
    ingress: { maxInFlight: { interactive: 20_000, default: 20_000, batch: 20_000 } },
    workers: { concurrency: 1024 },
    kafka: { brokers: services.kafka.brokers, topicPrefix: `${namespace}.`, partitions: options.partitions },
    redis: { url: services.redis.url, keyPrefix: `${namespace}:` },
    clickhouse: { ...services.clickhouse, database: namespace },
    providers: [
      {
        name: "emulator",
        type: "openai",
        options: { baseUrl: emulatorUrl, apiKey: providerKey, maxConnections: 512 },
      },
    ],
    models: [{ name: model, provider: "emulator" }],
  };
  const topology = (profiled: boolean) => startTopology(settings, profiled);
  try {
    const main = await topology(false);
    const measurement = await measure(main, emulatorUrl, options).finally(() => main.stop());
    const stages = await stageBreakdown(
      settings.clickhouse,
      measurement.measuredFrom,
      measurement.measuredTo,
    );

    // The CPU profile comes from a run of its own: a profiler in the measured processes would slow them.
    const profiledRun = await topology(true);
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
      profile: summarizeProfiles(profiledRun.profileDir),
    };
  } finally {
    emulator.stdin?.end();
  }
}

type Topology = Awaited<ReturnType<typeof startTopology>>;

/** Sink, two workers, two ingresses, each its own process; `profiled` puts V8's CPU profiler in one worker and one ingress. */
async function startTopology(settings: Record<string, unknown>, profiled: boolean) {
  const profileDir = mkdtempSync(join(tmpdir(), "gateway-profile-"));
  const profilerArgs = profiled ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [];
  const processes: GatewayProcess[] = [];
  const pools: Pool[] = [];
  const stop = async () => {
    await Promise.all(pools.map((pool) => pool.close()));
    for (const process of processes) process.kill("SIGTERM");
    await Promise.all(processes.map((process) => process.exited));
  };
  try {
    processes.push(await spawnGateway(settings, "sink"));
    processes.push(await spawnGateway(settings, "worker", profilerArgs));
    processes.push(await spawnGateway(settings, "worker"));
    const ingresses = [
      await spawnGateway(settings, "ingress", profilerArgs),
      await spawnGateway(settings, "ingress"),
    ];
    processes.push(...ingresses);
  } catch (error) {
    for (const process of processes) process.kill("SIGKILL");
    throw error;
  }
  const gateways = processes.slice(-2).map((ingress) => new Pool(ingress.url, { connections: 512 }));
  pools.push(...gateways);
  let turn = 0;
  return {
    profileDir,
    stop,
    call: (stream: boolean) => (scheduledAt: number) =>
      timedCall(gateways[turn++ % 2] as Pool, gatewayKey, stream, scheduledAt),
  };
}

async function measure(topology: Topology, emulatorUrl: string, options: RequestPathOptions) {
  const direct = new Pool(new URL(emulatorUrl).origin, { connections: 512 });
  const viaDirect = (stream: boolean) => (at: number) => timedCall(direct, providerKey, stream, at);
  try {
    // Warm-up: connections, JIT, Kafka metadata, consumer assignments.
    await openLoop(200, 5_000, topology.call(false));
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

const body = (stream: boolean) =>
  JSON.stringify({
    model,
    stream,
    messages: [{ role: "user", content: "What is the capital of France?" }],
    max_tokens: 16,
  });

/** One chat call; the latency of the whole answer, or for a stream of its first content chunk. */
async function timedCall(pool: Pool, key: string, stream: boolean, scheduledAt: number): Promise<number> {
  const response = await pool.request({
    method: "POST",
    path: "/v1/chat/completions",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: body(stream),
  });
  if (response.statusCode !== 200) {
    await response.body.dump();
    throw new Error(`HTTP ${response.statusCode}`);
  }
  if (!stream) {
    await response.body.text();
    return performance.now() - scheduledAt;
  }
  let firstToken: number | undefined;
  let seen = "";
  for await (const chunk of response.body) {
    if (firstToken === undefined) {
      seen += chunk.toString();
      if (/"content":"[^"]/.test(seen)) firstToken = performance.now() - scheduledAt;
    }
  }
  if (firstToken === undefined) throw new Error("no content in the stream");
  return firstToken;
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

export async function firstJsonLine<T>(child: ChildProcess): Promise<T> {
  let text = "";
  for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
    text += chunk.toString();
    const newline = text.indexOf("\n");
    if (newline >= 0) return JSON.parse(text.slice(0, newline)) as T;
  }
  throw new Error("the emulator exited before it was ready");
}
