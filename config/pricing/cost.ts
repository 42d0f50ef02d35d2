import type { Usage } from "../../schemas/reply-event.ts";
import type { Price } from "./price-schema.ts";

/**
 * What a call cost, in nano-USD (1e-9 USD), an integer: prices become integer pico-USD per token
 * first, so no float rounding creeps in however many calls are summed; each call rounds once, to
 * the nearest nano-dollar. The gateway's usage counts cached reads and cache writes inside
 * `inputTokens` and reasoning inside `outputTokens`; each part is priced at its own rate.
 */
export function costNanoUsd(usage: Usage, price: Price, options: { batch?: boolean } = {}): number {
  const tier =
    price.longContext && usage.inputTokens > price.longContext.aboveInputTokens ? price.longContext : price;
  const input = picoPerToken(tier.input);
  const output = picoPerToken(tier.output);
  const uncachedInput = Math.max(0, usage.inputTokens - usage.cachedInputTokens - usage.cacheWriteTokens);
  const visibleOutput = Math.max(0, usage.outputTokens - usage.reasoningTokens);
  const pico =
    BigInt(uncachedInput) * input +
    BigInt(usage.cachedInputTokens) *
      (tier.cachedInput === undefined ? input : picoPerToken(tier.cachedInput)) +
    BigInt(usage.cacheWriteTokens) * (tier.cacheWrite === undefined ? input : picoPerToken(tier.cacheWrite)) +
    BigInt(visibleOutput) * output +
    BigInt(usage.reasoningTokens) * (price.reasoning === undefined ? output : picoPerToken(price.reasoning));
  // The discount as parts per million keeps the arithmetic in integers too.
  const keptPpm = BigInt(Math.round((1 - (options.batch ? (price.batchDiscount ?? 0) : 0)) * 1e6));
  const atto = pico * keptPpm; // 1e-12 × 1e-6 USD
  const nanoTimes2 = (atto * 2n) / 1_000_000_000n; // doubled, to round half up
  return Number((nanoTimes2 + 1n) / 2n);
}

/** USD per million tokens → pico-USD (1e-12) per token: exact for prices with up to six decimals. */
function picoPerToken(usdPerMillion: number): bigint {
  return BigInt(Math.round(usdPerMillion * 1e6));
}

/** Nano-USD as a decimal string of USD, exact (e.g. for a ClickHouse Decimal column). */
export function usdOfNano(nano: number): string {
  const sign = nano < 0 ? "-" : "";
  const digits = Math.abs(nano).toString().padStart(10, "0");
  return `${sign}${digits.slice(0, -9)}.${digits.slice(-9)}`;
}
