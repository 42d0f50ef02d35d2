import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Value } from "@sinclair/typebox/value";
import { parse } from "yaml";
import { type Price, type PriceList, priceListSchema } from "./price-schema.ts";

/** The price file shipped with the gateway. */
export const bundledPricesPath = fileURLToPath(new URL("prices.yaml", import.meta.url));

export interface PriceTable {
  /**
   * The price of a model at a provider account: the account's own entry (by provider name), else
   * its type's; the exact model, else the longest listed prefix followed by "-" (dated snapshots).
   */
  priceOf(provider: { name: string; type: string }, model: string): Price | undefined;
}

/** Reads and validates a price file; throws naming the first bad entry. */
export function readPriceFile(path: string): PriceList {
  const list: unknown = parse(readFileSync(path, "utf8")) ?? {};
  const error = Value.Errors(priceListSchema, list).First();
  if (error) throw new Error(`${path}: ${error.path.slice(1).replaceAll("/", ".")}: ${error.message}`);
  return list as PriceList;
}

/** The file's prices with the config's on top (a config entry replaces the file's entry whole). */
export function createPriceTable(file: PriceList, overrides: PriceList = {}): PriceTable {
  const merged = new Map<string, Map<string, Price>>();
  for (const list of [file, overrides]) {
    for (const [provider, models] of Object.entries(list)) {
      const prices = merged.get(provider) ?? new Map<string, Price>();
      for (const [model, price] of Object.entries(models)) prices.set(model, price);
      merged.set(provider, prices);
    }
  }
  const found = new Map<string, Price | undefined>();
  const lookup = (prices: Map<string, Price> | undefined, model: string): Price | undefined => {
    if (!prices) return undefined;
    const exact = prices.get(model);
    if (exact) return exact;
    let best: string | undefined;
    for (const listed of prices.keys()) {
      if (model.startsWith(`${listed}-`) && listed.length > (best?.length ?? 0)) best = listed;
    }
    return best === undefined ? undefined : prices.get(best);
  };
  return {
    priceOf(provider, model) {
      const key = `${provider.name}\0${provider.type}\0${model}`;
      if (!found.has(key))
        found.set(key, lookup(merged.get(provider.name), model) ?? lookup(merged.get(provider.type), model));
      return found.get(key);
    },
  };
}

/**
 * The gateway's prices, by provider account name and model: the configured (or bundled) file
 * under the config's own prices. Throws, naming the entry, when the file is not valid.
 */
export function loadPrices(config: {
  pricing: { file: string; prices: PriceList };
  providers: ReadonlyArray<{ name: string; type: string }>;
}): (provider: string, model: string) => Price | undefined {
  const table = createPriceTable(
    readPriceFile(config.pricing.file || bundledPricesPath),
    config.pricing.prices,
  );
  const types = new Map(config.providers.map((provider) => [provider.name, provider.type]));
  return (provider, model) => table.priceOf({ name: provider, type: types.get(provider) ?? provider }, model);
}
