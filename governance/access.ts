import { covers } from "./keys/admin.ts";
import type { ApiGroup } from "./keys/admin-schema.ts";
import type { Caller } from "./keys/keyring.ts";

/** Whether a caller's key may use an API group; keys from the configuration may use all. */
export function apiAllowed(caller: Caller, group: ApiGroup): boolean {
  const apis = caller.grant?.key.apis;
  return !apis || apis.includes(group);
}

/**
 * Whether a caller may open the dashboard: an admin key, or a virtual key whose `apis` names
 * `dashboard` explicitly (a key with every API — `apis` unset — does not get it by default). Such a
 * key sees its own team's spend and requests only.
 */
export function dashboardAllowed(caller: Caller): boolean {
  return caller.admin === true || caller.grant?.key.apis?.includes("dashboard") === true;
}

/** Whether a caller may call a model: its key's list and its team's must both allow it. */
export function modelAllowed(caller: Caller, model: string): boolean {
  const grant = caller.grant;
  if (!grant) return true;
  return [grant.key.models, grant.team.models].every(
    (models) => !models || models.some((pattern) => covers(pattern, model)),
  );
}
