import { Redis } from "ioredis";
import type { GatewayConfig } from "../config/schema.ts";
import { redactUrl } from "../config/secrets.ts";
import { ServiceUnreachable } from "./start-failures.ts";

/**
 * One ioredis connection with the gateway's key prefix. Commands fail fast while Redis is away
 * instead of queueing without bound, so callers can apply their own fail-open/closed policy.
 */
export async function connectRedis(config: GatewayConfig["redis"]): Promise<Redis> {
  const redis = openRedis(config, true);
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    throw new ServiceUnreachable("Redis", redactUrl(config.url), "redis.url", error as Error);
  }
  return redis;
}

/**
 * The same connection without waiting for it: for what may run without Redis (the answer cache),
 * which must not keep the gateway from starting while Redis is down. It connects, and reconnects,
 * on its own; until then its commands fail at once.
 */
export function openRedis(
  config: GatewayConfig["redis"],
  lazyConnect = false,
  /** A command with no answer within this long fails (a Redis that accepts connections but never answers). */
  commandTimeout?: number,
): Redis {
  const redis = new Redis(config.url, {
    keyPrefix: config.keyPrefix,
    lazyConnect,
    ...(commandTimeout !== undefined && { commandTimeout }),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    // No auto-pipelining: it saves a write per command, but what it builds for every turn's batch
    // outlived the batch and was promoted by young-generation collections. Without it a worker
    // used an eighth less CPU a request and about half the collection pauses (BENCHMARKS.md).
  });
  // Connection errors are the commands' to report; unhandled, they would only be noise.
  redis.on("error", () => {});
  return redis;
}
