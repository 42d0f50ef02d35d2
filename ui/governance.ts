import { count, usd } from "./ranges.ts";

/**
 * Keys and teams as the admin API shows them (governance/keys/admin.ts), and what the page derives
 * from them. The browser code keeps its own copy of the shapes: it compiles without the server's.
 * The number settings are type aliases, not interfaces, so they pass as plain records of numbers.
 */

export type Budget = {
  dailyUsd: number | null;
  monthlyUsd: number | null;
  totalUsd: number | null;
  softLimitPercent: number | null;
};

export type RateLimits = {
  requestsPerMinute: number | null;
  tokensPerMinute: number | null;
};

export type ConsumptionLimits = {
  maxTokens: number | null;
  maxN: number | null;
  maxConcurrentStreams: number | null;
};

export interface Team {
  id: string;
  name: string;
  models: string[] | null;
  budget: Budget | null;
  rateLimits: RateLimits | null;
  tags: Record<string, string>;
  metadata: Record<string, string>;
  createdAtMs: number;
  updatedAtMs: number;
  disabled: boolean;
}

export interface Key {
  id: string;
  prefix: string;
  name: string | null;
  team: string;
  user: string | null;
  models: string[] | null;
  apis: string[] | null;
  priority: string | null;
  tags: Record<string, string>;
  metadata: Record<string, string>;
  budget: Budget | null;
  rateLimits: RateLimits | null;
  limits: ConsumptionLimits | null;
  expiresAtMs: number | null;
  revokedAtMs: number | null;
  previousHashExpiresAtMs: number | null;
  createdAtMs: number;
  updatedAtMs: number;
}

/** Spend per budget period, as GET /admin/keys/:id and /admin/teams/:id add it (null: the ledger was down). */
export type Spend = Record<string, { spentUsd: number; heldUsd: number }> | null;

/** The answer that creates or rotates a key: the only one that holds the key itself. */
export type IssuedKey = Key & { key: string };

export const apis = ["chat", "messages", "responses", "embeddings", "batches", "dashboard"] as const;
export const priorities = ["interactive", "default", "batch"] as const;

/**
 * The number settings the admin API takes as one object each. In a form, an empty field is left
 * out, and a group left all empty is cleared (null).
 */
export interface NumberGroup {
  name: "budget" | "rateLimits" | "limits";
  legend: string;
  fields: ReadonlyArray<{ name: string; label: string; integer?: boolean }>;
}

export const budgetGroup: NumberGroup = {
  name: "budget",
  legend: "Budget (USD)",
  fields: [
    { name: "dailyUsd", label: "Per UTC day" },
    { name: "monthlyUsd", label: "Per UTC month" },
    { name: "totalUsd", label: "In all" },
    { name: "softLimitPercent", label: "Alert at (% of a cap)", integer: true },
  ],
};

export const rateLimitsGroup: NumberGroup = {
  name: "rateLimits",
  legend: "Rate limits",
  fields: [
    { name: "requestsPerMinute", label: "Requests per minute", integer: true },
    { name: "tokensPerMinute", label: "Tokens per minute", integer: true },
  ],
};

export const limitsGroup: NumberGroup = {
  name: "limits",
  legend: "Limits per request",
  fields: [
    { name: "maxTokens", label: "Largest max_tokens", integer: true },
    { name: "maxN", label: "Largest n", integer: true },
    { name: "maxConcurrentStreams", label: "Streams at once", integer: true },
  ],
};

export function statusOf(key: Key, now = Date.now()): "revoked" | "expired" | "active" {
  if (key.revokedAtMs !== null) return "revoked";
  if (key.expiresAtMs !== null && key.expiresAtMs <= now) return "expired";
  return "active";
}

export const budgetText = (budget: Budget | null) =>
  [
    budget?.dailyUsd != null && `${usd(budget.dailyUsd)}/day`,
    budget?.monthlyUsd != null && `${usd(budget.monthlyUsd)}/month`,
    budget?.totalUsd != null && `${usd(budget.totalUsd)} total`,
  ]
    .filter(Boolean)
    .join(" · ") || "–";

export const rateLimitsText = (limits: RateLimits | null) =>
  [
    limits?.requestsPerMinute != null && `${count(limits.requestsPerMinute)} req/min`,
    limits?.tokensPerMinute != null && `${count(limits.tokensPerMinute)} tok/min`,
  ]
    .filter(Boolean)
    .join(" · ") || "–";

export const listText = (items: string[] | null, none: string) => items?.join(", ") || none;

export const pairsText = (map: Record<string, string>) =>
  Object.entries(map)
    .map(([name, value]) => `${name}=${value}`)
    .join(", ") || "–";

/** A time as `YYYY-MM-DD HH:MM` in the browser's time zone, as a datetime-local field shows it. */
export function localTime(ms: number): string {
  const shifted = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return shifted.toISOString().slice(0, 16).replace("T", " ");
}

const spendPeriods = { day: "today", month: "this month", total: "in all" } as const;

export const spendText = (spend: Spend) =>
  spend
    ? Object.entries(spendPeriods)
        .map(([period, label]) => `${usd(spend[period]?.spentUsd ?? 0)} ${label}`)
        .join(" · ")
    : "unknown (the budget store did not answer)";
