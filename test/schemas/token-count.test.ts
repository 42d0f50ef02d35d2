import { countTokens as exactCount } from "gpt-tokenizer/encoding/o200k_base";
import { describe, expect, it } from "vitest";
import { countTokens, loadTokenizer } from "../../schemas/token-count.ts";

/** Usage a provider never reported is counted by the gateway: with o200k_base once a worker has loaded it. */
describe("counting tokens the provider did not report", () => {
  it("counts four characters a token until the tokenizer is loaded, then exactly", async () => {
    const text = "The gateway counts what a cut stream had sent.";
    expect(countTokens(text)).toBe(Math.ceil(text.length / 4));
    await loadTokenizer();
    expect(countTokens(text)).toBe(exactCount(text));
    expect(countTokens("hello world")).toBe(2);
  });

  it("counts a long prompt from its start, scaled, within a percent of the exact count", async () => {
    await loadTokenizer();
    const prompt = JSON.stringify(
      Array.from({ length: 400 }, (_, index) => ({
        role: "user",
        content: `message ${index}: the quick brown fox`,
      })),
    );
    expect(prompt.length).toBeGreaterThan(16_000);
    const exact = exactCount(prompt);
    expect(Math.abs(countTokens(prompt) - exact) / exact).toBeLessThan(0.01);
  });
});
