import { readFileSync } from "node:fs";
import type { ClickHouseClient } from "@clickhouse/client";
import { Redis } from "ioredis";
import { cpuMsOf } from "../cpu.ts";

/** What the kernel counts for a set of processes (Linux /proc): CPU and system calls that read and write. */
export type ProcessCounters = {
  cpuMs: number;
  writes: number;
  reads: number;
};

/** The counters of these processes, summed (threads included; a process gone counts nothing). */
export function processCounters(pids: number[]): ProcessCounters {
  const sum = { cpuMs: 0, writes: 0, reads: 0 };
  for (const pid of pids) {
    try {
      sum.cpuMs += cpuMsOf(pid);
      const io = readFileSync(`/proc/${pid}/io`, "utf8");
      sum.writes += Number(/^syscw: (\d+)/m.exec(io)?.[1] ?? 0);
      sum.reads += Number(/^syscr: (\d+)/m.exec(io)?.[1] ?? 0);
    } catch {
      // gone meanwhile
    }
  }
  return sum;
}

/** Resident memory of these processes now (MiB, VmRSS summed; a process gone counts nothing). */
export function residentMiB(pids: number[]): number {
  let kib = 0;
  for (const pid of pids) {
    try {
      kib += Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
    } catch {
      // gone meanwhile
    }
  }
  return kib / 1024;
}

/** Calls so far of each Redis command (INFO commandstats), commands inside scripts included. */
export async function redisCommandCalls(url: string): Promise<Record<string, number>> {
  const client = new Redis(url, { lazyConnect: true });
  try {
    await client.connect();
    const text = await client.info("commandstats");
    return Object.fromEntries(
      [...text.matchAll(/^cmdstat_([\w|]+):calls=(\d+)/gm)].map((match) => [match[1], Number(match[2])]),
    );
  } finally {
    client.disconnect();
  }
}

/** ClickHouse's own counters of the work it did, since it started (system.events). */
export const clickhouseEvents = [
  "InsertQuery",
  "InsertedRows",
  "Merge",
  "MergedRows",
  "SelectQuery",
  "OSCPUVirtualTimeMicroseconds",
] as const;

export async function clickhouseCounters(
  client: ClickHouseClient,
): Promise<Record<(typeof clickhouseEvents)[number], number>> {
  const result = await client.query({
    query: "SELECT event, value FROM system.events WHERE event IN {events:Array(String)}",
    query_params: { events: clickhouseEvents },
    format: "JSONEachRow",
  });
  const rows = await result.json<{ event: string; value: string }>();
  const byEvent = new Map(rows.map((row) => [row.event, Number(row.value)]));
  return Object.fromEntries(clickhouseEvents.map((event) => [event, byEvent.get(event) ?? 0])) as Record<
    (typeof clickhouseEvents)[number],
    number
  >;
}
