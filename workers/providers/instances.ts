import type { GatewayConfig } from "../../config/schema.ts";
import type { Provider } from "./provider.ts";
import { providerTypes } from "./registry.ts";

/** One adapter instance per configured provider account, by name. Options were validated at config load. */
export function createProviders(config: GatewayConfig["providers"]): Map<string, Provider> {
  return new Map(
    config.map((entry) => {
      const type = providerTypes[entry.type];
      return [entry.name, type.create(entry.options as Parameters<typeof type.create>[0])];
    }),
  );
}
