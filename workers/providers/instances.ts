import type { DeploymentTokenizer } from "../../config/routes.ts";
import type { GatewayConfig } from "../../config/schema.ts";
import type { Provider, ProviderType } from "./provider.ts";
import { providerTypes } from "./registry.ts";

/** One adapter instance per configured provider account, by name. Options were validated at config load. */
export function createProviders(config: GatewayConfig["providers"]): Map<string, Provider> {
  return new Map(
    config.map((entry) => {
      const type: ProviderType = providerTypes[entry.type];
      return [entry.name, type.create(entry.options as Parameters<ProviderType["create"]>[0])];
    }),
  );
}

/** Which encoding counts a model's prompts at each configured provider account: its type's say. */
export function deploymentTokenizers(config: GatewayConfig["providers"]): DeploymentTokenizer {
  const types = new Map(config.map((entry) => [entry.name, providerTypes[entry.type] as ProviderType]));
  return (provider, model) => types.get(provider)?.tokenizer?.(model);
}
