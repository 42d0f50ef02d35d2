import { isDeepStrictEqual } from "node:util";
import { isRecord } from "./options.ts";
import type { GatewayConfig } from "./schema.ts";

/**
 * The sections a running gateway takes from a reloaded file: what it serves (models, their
 * guardrails and deployments), what calls cost, and the provider accounts those name. Every other
 * option is read once, at start, by something built from it (a listener, a bus, a pool, a budget
 * store): a change to it waits for a restart.
 */
export const reloadableSections = ["models", "providers", "pricing"] as const;

/** The configuration of a running gateway with a reloaded file's reloadable sections. */
export function withReloadable(running: GatewayConfig, reloaded: GatewayConfig): GatewayConfig {
  return {
    ...running,
    ...Object.fromEntries(reloadableSections.map((section) => [section, reloaded[section]])),
  };
}

/**
 * The options that differ between two configurations, as they are written in the file: a model
 * or provider by its name (`models.gpt-4o`, `providers.openai`), any other option by its section
 * and name (`server.port`, `pricing.prices`), so a line naming them stays short and says where to look.
 */
export function changedOptions(before: GatewayConfig, after: GatewayConfig): string[] {
  const changed: string[] = [];
  for (const section of Object.keys({ ...before, ...after }) as Array<keyof GatewayConfig>) {
    const old: unknown = before[section];
    const now: unknown = after[section];
    if (isDeepStrictEqual(old, now)) continue;
    if (section === "models" || section === "providers") {
      changed.push(...changedNames(section, old as Named[], now as Named[]));
    } else if (isRecord(old) && isRecord(now)) {
      for (const option of Object.keys({ ...old, ...now }))
        if (!isDeepStrictEqual(old[option], now[option])) changed.push(`${section}.${option}`);
    } else {
      changed.push(section);
    }
  }
  return changed;
}

/** Whether a change can be applied by a running gateway. */
export function isReloadable(option: string): boolean {
  return reloadableSections.some((section) => option === section || option.startsWith(`${section}.`));
}

interface Named {
  name: string;
}

/** Entries grouped by name (a model's name may have several entries, each with its `when`). */
function changedNames(section: string, before: Named[], after: Named[]): string[] {
  const byName = (entries: Named[]) => {
    const groups = new Map<string, Named[]>();
    for (const entry of entries) groups.set(entry.name, [...(groups.get(entry.name) ?? []), entry]);
    return groups;
  };
  const old = byName(before);
  const now = byName(after);
  return [...new Set([...old.keys(), ...now.keys()])]
    .filter((name) => !isDeepStrictEqual(old.get(name), now.get(name)))
    .map((name) => `${section}.${name}`);
}
