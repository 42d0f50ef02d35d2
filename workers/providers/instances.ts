import { isDeepStrictEqual } from "node:util";
import type { DeploymentTokenizer } from "../../config/routes.ts";
import type { GatewayConfig } from "../../config/schema.ts";
import type { Provider, ProviderType } from "./provider.ts";
import { providerTypes } from "./registry.ts";

/** Provider instances built from a configuration's entries. */
export interface ProviderInstances {
  config: GatewayConfig["providers"];
  providers: Map<string, Provider>;
}

/**
 * One adapter instance per configured provider account, by name. Options were validated at config
 * load. An entry the same as in `kept` (a reload) keeps its instance and so its open connections;
 * a replaced instance's pool closes its sockets once they are idle, after its last calls end.
 */
export function createProviders(
  config: GatewayConfig["providers"],
  kept?: ProviderInstances,
): Map<string, Provider> {
  return new Map(
    config.map((entry) => {
      const previous = kept?.config.find((old) => old.name === entry.name);
      const same =
        previous && isDeepStrictEqual(previous, entry) ? kept?.providers.get(entry.name) : undefined;
      const type: ProviderType = providerTypes[entry.type];
      return [entry.name, same ?? type.create(entry.options as Parameters<ProviderType["create"]>[0])];
    }),
  );
}

/** Which encoding counts a model's prompts at each configured provider account: its type's say. */
export function deploymentTokenizers(config: GatewayConfig["providers"]): DeploymentTokenizer {
  const types = new Map(config.map((entry) => [entry.name, providerTypes[entry.type] as ProviderType]));
  return (provider, model) => types.get(provider)?.tokenizer?.(model);
}
