import type { ClickHouseClient } from "@clickhouse/client";
import { Pool } from "undici";
import { benchProviderKey, timedChatCall } from "../chat-call.ts";
import type { Topology } from "../distributed-gateway.ts";
import { openLoop } from "../stats.ts";
import { coresDuringSlowest, type Flight, sampleCores } from "./core-sampler.ts";
import {
  clickhouseCounters,
  type ProcessCounters,
  processCounters,
  redisCommandCalls,
  residentMiB,
} from "./counters.ts";
import { type LoopFigures, watchLoops } from "./loop-delay.ts";
import type { KafkaPathOptions } from "./options.ts";

/** Where the bench looks: the processes of each role, Redis, ClickHouse, the upstream. */
export interface Observed {
  roles: Record<string, number[]>;
  /** The HTTP origins of the gateway's own processes, by role (their /metrics). */
  gatewayUrls: Record<string, string[]>;
  redisUrl: string;
  clickhouse: ClickHouseClient;
  upstreamUrl: string;
}

export interface RoundResult {
  /** The upstream's own latencies at the rate, just before (the baseline "added" subtracts). */
  direct: number[];
  flights: Flight[];
  /** When the phase through the gateway ran (ms since 1970): its requests' events are found by it. */
  window: { fromMs: number; toMs: number };
  errors: number;
  phaseMs: number;
  /** Per role: CPU, write and read system calls over the phase. */
  processes: Record<string, ProcessCounters>;
  /** Per role: resident memory at the phase's end (MiB). */
  residentMiB: Record<string, number>;
  redisCalls: Record<string, number>;
  clickhouse: Awaited<ReturnType<typeof clickhouseCounters>>;
  tail: ReturnType<typeof coresDuringSlowest>;
  /** Per role of the gateway: each of its processes' event-loop delay and collections over the phase. */
  loops: Record<string, LoopFigures[]>;
}

/** One round: the upstream alone at the rate, then the gateway at the rate with everything counted. */
export async function measureRound(
  topology: Topology,
  observed: Observed,
  options: KafkaPathOptions,
): Promise<RoundResult> {
  const upstream = new Pool(new URL(observed.upstreamUrl).origin, { connections: 512 });
  const headers = { authorization: `Bearer ${benchProviderKey}` };
  const direct = await openLoop(options.rate, options.directMs, (at) =>
    timedChatCall(upstream, headers, false, at),
  );
  await upstream.close();

  const counted = async () => ({
    processes: Object.fromEntries(
      Object.entries(observed.roles).map(([role, pids]) => [role, processCounters(pids)]),
    ),
    redis: await redisCommandCalls(observed.redisUrl),
    clickhouse: await clickhouseCounters(observed.clickhouse),
  });
  const before = await counted();
  const sampler = sampleCores(observed.roles);
  const loops = await watchLoops(observed.gatewayUrls);
  const flights: Flight[] = [];
  const call = topology.call(false);
  const fromMs = Date.now();
  const phase = await openLoop(options.rate, options.phaseMs, async (scheduledAt) => {
    const latency = await call(scheduledAt);
    flights.push({ start: scheduledAt, end: scheduledAt + latency });
    return latency;
  });
  const toMs = Date.now();
  const samples = sampler.stop();
  const loopFigures = await loops.stop();
  const residentAtEnd = residentByRole(observed.roles);
  const after = await counted();
  const difference = <T extends Record<string, number>>(later: T, earlier: T) =>
    Object.fromEntries(Object.keys(later).map((key) => [key, (later[key] ?? 0) - (earlier[key] ?? 0)])) as T;
  return {
    direct: direct.latencies,
    flights,
    window: { fromMs, toMs },
    errors: phase.errors,
    phaseMs: options.phaseMs,
    processes: Object.fromEntries(
      Object.keys(observed.roles).map((role) => [
        role,
        difference(after.processes[role] as ProcessCounters, before.processes[role] as ProcessCounters),
      ]),
    ),
    residentMiB: residentAtEnd,
    redisCalls: difference(after.redis, before.redis),
    clickhouse: difference(after.clickhouse, before.clickhouse),
    tail: coresDuringSlowest(samples, flights),
    loops: loopFigures,
  };
}

/** Resident memory of each role's processes now (MiB). */
export function residentByRole(roles: Record<string, number[]>): Record<string, number> {
  return Object.fromEntries(Object.entries(roles).map(([role, pids]) => [role, residentMiB(pids)]));
}
