import { describe, expect, it } from "vitest";
import { costNanoUsd, usdOfNano } from "../../config/pricing/cost.ts";
import { bundledPricesPath, createPriceTable, readPriceFile } from "../../config/pricing/price-table.ts";
import { zeroUsage } from "../../schemas/reply-event.ts";

const usage = (parts: Partial<typeof zeroUsage>) => ({ ...zeroUsage, ...parts });
const gpt4o = { input: 2.5, cachedInput: 1.25, output: 10, batchDiscount: 0.5 };

describe("the cost of a call", () => {
  it("prices uncached input, cached reads, cache writes, output and reasoning each at its own rate", () => {
    // 800 × 2.5 + 200 × 1.25 + 500 × 10 = 7,250 USD per million calls → 7,250,000 nano-USD.
    expect(costNanoUsd(usage({ inputTokens: 1000, cachedInputTokens: 200, outputTokens: 500 }), gpt4o)).toBe(
      7_250_000,
    );
    const sonnet = { input: 3, cachedInput: 0.3, cacheWrite: 3.75, output: 15, reasoning: 20 };
    // input 1000 = 100 uncached + 300 read + 600 written; output 400 = 100 visible + 300 reasoning.
    const called = usage({
      inputTokens: 1000,
      cachedInputTokens: 300,
      cacheWriteTokens: 600,
      outputTokens: 400,
      reasoningTokens: 300,
    });
    expect(costNanoUsd(called, sonnet)).toBe(
      100 * 3000 + 300 * 300 + 600 * 3750 + 100 * 15_000 + 300 * 20_000,
    );
  });

  it("falls back to the input price for cache reads and writes and to the output price for reasoning", () => {
    const plain = { input: 1, output: 2 };
    const called = usage({
      inputTokens: 10,
      cachedInputTokens: 4,
      cacheWriteTokens: 3,
      outputTokens: 5,
      reasoningTokens: 5,
    });
    expect(costNanoUsd(called, plain)).toBe(10 * 1000 + 5 * 2000);
  });

  it("takes the batch discount only for batch calls", () => {
    const called = usage({ inputTokens: 1000, outputTokens: 500 });
    expect(costNanoUsd(called, gpt4o, { batch: true })).toBe(costNanoUsd(called, gpt4o) / 2);
    expect(costNanoUsd(called, { input: 2.5, output: 10 }, { batch: true })).toBe(costNanoUsd(called, gpt4o));
  });

  it("prices the whole call at the long-context tier once the prompt is past its threshold", () => {
    const price = {
      input: 3,
      output: 15,
      longContext: { aboveInputTokens: 200_000, input: 6, output: 22.5 },
    };
    expect(costNanoUsd(usage({ inputTokens: 200_000, outputTokens: 1000 }), price)).toBe(
      200_000 * 3000 + 1000 * 15_000,
    );
    expect(costNanoUsd(usage({ inputTokens: 200_001, outputTokens: 1000 }), price)).toBe(
      200_001 * 6000 + 1000 * 22_500,
    );
  });

  it("sums exactly however many calls: integers, rounded once per call to the nano-dollar", () => {
    // USD 0.0375 per million = 37.5 nano-USD a token: 3 tokens cost 112.5 nano → 113 (half up), so
    // a call is off by half a nano-dollar at most (USD 0.0005 over a million calls).
    const price = { input: 0.0375, output: 0 };
    expect(costNanoUsd(usage({ inputTokens: 3 }), price)).toBe(113);
    let total = 0;
    for (let call = 0; call < 1_000_000; call++) total += costNanoUsd(usage({ inputTokens: 1000 }), price);
    expect(usdOfNano(total)).toBe("37.500000000"); // 1e9 tokens × USD 0.0375 per million
  });

  it("writes nano-dollars as an exact decimal of USD", () => {
    expect(usdOfNano(0)).toBe("0.000000000");
    expect(usdOfNano(7_250_000)).toBe("0.007250000");
    expect(usdOfNano(12_345_678_901)).toBe("12.345678901");
  });
});

describe("the price table", () => {
  const file = readPriceFile(bundledPricesPath);
  const table = createPriceTable(file, {
    "azure-east": { "gpt-4o-prod": { input: 2, output: 8 } },
    openai: { "gpt-4o": { input: 9, output: 9 } },
  });

  it("ships a valid price file with the main models of each provider", () => {
    for (const [type, model] of [
      ["openai", "gpt-4o"],
      ["openai", "gpt-4o-mini"],
      ["anthropic", "claude-sonnet-4-5"],
      ["gemini", "gemini-2.5-pro"],
    ] as const) {
      expect(createPriceTable(file).priceOf({ name: type, type }, model)?.input).toBeGreaterThan(0);
    }
  });

  it("prices the built-in mock, and every mock-* model, at 0 (keys with budgets may call it)", () => {
    expect(createPriceTable(file).priceOf({ name: "mock", type: "mock" }, "mock-slow")).toEqual({
      input: 0,
      output: 0,
    });
  });

  it("finds dated snapshots by their longest listed prefix, and nothing for an unknown model", () => {
    const plain = createPriceTable(file);
    expect(plain.priceOf({ name: "x", type: "openai" }, "gpt-4o-mini-2024-07-18")?.input).toBe(0.15);
    expect(plain.priceOf({ name: "x", type: "openai" }, "gpt-4o-2024-08-06")?.input).toBe(2.5);
    expect(
      plain.priceOf({ name: "x", type: "anthropic" }, "claude-sonnet-4-5-20250929")?.longContext?.input,
    ).toBe(6);
    expect(plain.priceOf({ name: "x", type: "openai" }, "gpt-4o2")).toBeUndefined();
    expect(plain.priceOf({ name: "x", type: "gemini" }, "no-such-model")).toBeUndefined();
  });

  it("lets the config replace a file entry, and price one account apart from its type", () => {
    expect(table.priceOf({ name: "openai", type: "openai" }, "gpt-4o")).toEqual({ input: 9, output: 9 });
    expect(table.priceOf({ name: "azure-east", type: "azure-openai" }, "gpt-4o-prod")?.input).toBe(2);
    expect(table.priceOf({ name: "other", type: "azure-openai" }, "gpt-4o-prod")).toBeUndefined();
  });
});
