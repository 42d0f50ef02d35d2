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
} as const;

export type HeaderValues = Record<string, string | string[] | undefined>;

export interface CallSteering {
  priority: Priority | undefined;
  tags: Record<string, string>;
  routing: RequestEnvelope["routing"];
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

function number(headers: HeaderValues, header: string): number | null {
  const value = headers[header];
  if (value === undefined) return null;
  const parsed = Number(Array.isArray(value) ? value[0] : value);
  if (!Number.isFinite(parsed) || parsed < 0) refuse(header, "must be a number, 0 or more");
  return parsed;
}
