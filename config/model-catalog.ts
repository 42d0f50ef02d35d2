import type { GatewayConfig } from "./schema.ts";

export interface ModelTarget {
  /** Name of the configured provider account. */
  provider: string;
  /** The provider's model name. */
  model: string;
}

export interface ModelCatalog {
  /** Where a public model name is served, or undefined if this gateway does not serve it. */
  resolve(name: string): ModelTarget | undefined;
  /** The model names to list in GET /v1/models (patterns are not names). */
  listed(): string[];
}

/** The config's `models` list as a lookup: exact names first, then the longest matching prefix pattern. */
export function createModelCatalog(models: GatewayConfig["models"]): ModelCatalog {
  const exact = new Map(
    models.filter((entry) => !entry.name.endsWith("*")).map((entry) => [entry.name, entry]),
  );
  const patterns = models
    .filter((entry) => entry.name.endsWith("*"))
    .map((entry) => ({ prefix: entry.name.slice(0, -1), entry }))
    .sort((a, b) => b.prefix.length - a.prefix.length);
  return {
    resolve(name) {
      const entry = exact.get(name) ?? patterns.find(({ prefix }) => name.startsWith(prefix))?.entry;
      return entry ? { provider: entry.provider, model: entry.model ?? name } : undefined;
    },
    listed: () => [...exact.keys()],
  };
}
