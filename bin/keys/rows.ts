import type { ListedKey } from "../../governance/keys/admin.ts";
import type { TeamRecord } from "../../schemas/governance-record.ts";
import { isoTime } from "../output.ts";

/** The fields of the admin API's key (never its secret: only create and rotate answer one) that lists show. */
export type AdminKey = Pick<
  ListedKey,
  | "id"
  | "prefix"
  | "name"
  | "team"
  | "user"
  | "models"
  | "priority"
  | "expiresAtMs"
  | "revokedAtMs"
  | "createdAtMs"
>;

/** The fields of the admin API's team that lists show. */
export type AdminTeam = Pick<
  TeamRecord,
  "id" | "name" | "models" | "budget" | "rateLimits" | "disabled" | "createdAtMs"
>;

const orDash = (value: string | null | undefined) => value ?? "-";
const models = (list: string[] | null) => (list === null ? "all" : list.join(","));

function keyState(key: AdminKey, now: number): string {
  if (key.revokedAtMs !== null) return "revoked";
  if (key.expiresAtMs !== null && key.expiresAtMs <= now) return "expired";
  return "active";
}

/** Keys as table rows, a header first; the key's prefix (`gwk-o4suP1`) tells keys apart, not its secret. */
export function keyRows(keys: AdminKey[], now = Date.now()): string[][] {
  return [
    ["id", "prefix", "name", "team", "user", "priority", "models", "state", "expires", "created"],
    ...keys.map((key) => [
      key.id,
      key.prefix,
      orDash(key.name),
      key.team,
      orDash(key.user),
      orDash(key.priority),
      models(key.models),
      keyState(key, now),
      key.expiresAtMs === null ? "never" : isoTime(key.expiresAtMs),
      isoTime(key.createdAtMs),
    ]),
  ];
}

/** A budget as `$5/day $500/month`; none: `-`. */
function budgetText(budget: AdminTeam["budget"]): string {
  const parts = [
    budget?.dailyUsd != null && `$${budget.dailyUsd}/day`,
    budget?.monthlyUsd != null && `$${budget.monthlyUsd}/month`,
    budget?.totalUsd != null && `$${budget.totalUsd} total`,
  ].filter(Boolean);
  return parts.length === 0 ? "-" : parts.join(" ");
}

/** Teams as table rows, a header first. */
export function teamRows(teams: AdminTeam[]): string[][] {
  return [
    ["id", "name", "models", "budget", "rpm", "tpm", "state", "created"],
    ...teams.map((team) => [
      team.id,
      orDash(team.name),
      models(team.models),
      budgetText(team.budget),
      String(team.rateLimits?.requestsPerMinute ?? "-"),
      String(team.rateLimits?.tokensPerMinute ?? "-"),
      team.disabled ? "disabled" : "active",
      isoTime(team.createdAtMs),
    ]),
  ];
}
