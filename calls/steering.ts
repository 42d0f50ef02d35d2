import { GatewayError } from "../schemas/errors.ts";
import { type Priority, priorities, type RequestEnvelope } from "../schemas/request-envelope.ts";

/** Headers with which a caller steers one call (on a WebSocket, those of its upgrade request). */
export const gatewayHeaders = {
  /** interactive | default | batch: instead of the key's default priority. */
  priority: "x-gateway-priority",
  /** `name=value,name=value`: labels for routing conditions and analytics. */
  tags: "x-gateway-tags",
  /** Only deployments of at least this quality; the cheapest of them first. */
  minQuality: "x-gateway-min-quality",
  /** Only deployments whose estimated cost for this call, in USD, is within this budget. */
  maxCost: "x-gateway-max-cost",
  /** bypass (neither read nor store) | refresh (do not read, store the new answer) | no-store (read, do not store). */
  cache: "x-gateway-cache",
  /** Keep this answer at most this many seconds (never longer than the model's cache TTL). */
  cacheTtl: "x-gateway-cache-ttl",
} as const;

/** How a call may use the answer cache. */
export type CacheMode = "use" | "bypass" | "refresh" | "no-store";

export type HeaderValues = Record<string, string | string[] | undefined>;

export interface CallSteering {
  priority: Priority | undefined;
  tags: Record<string, string>;
  routing: RequestEnvelope["routing"];
  cache: { mode: CacheMode; ttlSeconds: number | null };
}

const tagName = /^[A-Za-z0-9_.-]{1,64}$/;
const maxTags = 16;

/** The steering headers, validated: a malformed one is a 400 naming it, in the caller's API shape. */
export function readSteering(headers: HeaderValues, priorityOverride?: unknown): CallSteering {
  const minQuality = number(headers, gatewayHeaders.minQuality);
  const maxCostUsd = number(headers, gatewayHeaders.maxCost);
  return {
    priority: priority(priorityOverride ?? headers[gatewayHeaders.priority]),
    tags: tags(headers[gatewayHeaders.tags]),
    routing: minQuality === null && maxCostUsd === null ? null : { minQuality, maxCostUsd },
    cache: { mode: cacheMode(headers), ttlSeconds: number(headers, gatewayHeaders.cacheTtl) },
  };
}

function refuse(header: string, message: string): never {
  throw new GatewayError("invalid_request", `${header}: ${message}`, { param: header });
}

function priority(value: unknown): Priority | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "string" && (priorities as readonly string[]).includes(value))
    return value as Priority;
  return refuse(gatewayHeaders.priority, `must be one of ${priorities.join(", ")}`);
}

function tags(value: string | string[] | undefined): Record<string, string> {
  if (value === undefined) return {};
  const pairs = (Array.isArray(value) ? value.join(",") : value)
    .split(",")
    .map((pair) => pair.trim())
    .filter(Boolean);
  if (pairs.length > maxTags) refuse(gatewayHeaders.tags, `at most ${maxTags} tags`);
  const result: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    const name = at < 0 ? pair : pair.slice(0, at).trim();
    const tagValue = at < 0 ? "" : pair.slice(at + 1).trim();
    if (!tagName.test(name) || name === "key")
      refuse(gatewayHeaders.tags, `"${name}" is not a tag name (letters, digits, _ . -; "key" is reserved)`);
    if (tagValue.length > 256)
      refuse(gatewayHeaders.tags, `the value of ${name} is longer than 256 characters`);
    result[name] = tagValue;
  }
  return result;
}

/** `x-gateway-cache`, else HTTP's own `Cache-Control: no-store` (do not store) and `no-cache` (do not serve from cache). */
function cacheMode(headers: HeaderValues): CacheMode {
  const asked = headers[gatewayHeaders.cache];
  if (asked !== undefined) {
    const mode = Array.isArray(asked) ? asked[0] : asked;
    if (mode === "bypass" || mode === "refresh" || mode === "no-store") return mode;
    return refuse(gatewayHeaders.cache, "must be bypass, refresh or no-store");
  }
  const control = String(headers["cache-control"] ?? "").toLowerCase();
  if (/\bno-store\b/.test(control)) return "no-store";
  if (/\bno-cache\b/.test(control)) return "refresh";
  return "use";
}

function number(headers: HeaderValues, header: string): number | null {
  const value = headers[header];
  if (value === undefined) return null;
  const parsed = Number(Array.isArray(value) ? value[0] : value);
  if (!Number.isFinite(parsed) || parsed < 0) refuse(header, "must be a number, 0 or more");
  return parsed;
}
