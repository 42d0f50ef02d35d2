import { describe, expect, it } from "vitest";
import { dashboardHarness, masterKey, openView, screenshots, tileValue } from "../support/dashboard.ts";
import { eventually } from "../support/eventually.ts";

/**
 * The Cache view in Chromium against a real gateway whose model caches: a repeated call shows as a
 * hit with what it saved, and a purge from the page makes the next identical call a miss again.
 */
describe("the Cache view", () => {
  const harness = dashboardHarness({
    overrides: { models: [{ name: "gpt-4o-mini", provider: "emulated", cache: { ttlSeconds: 300 } }] },
  });
  const { openai, signedIn } = harness;

  /** The same question each time; what the cache did with it, as the answer's header says. */
  const ask = async () => {
    const { response } = await openai()
      .chat.completions.create({
        model: "gpt-4o-mini",
        messages: [{ role: "user", content: "a question asked more than once" }],
      })
      .withResponse();
    return response.headers.get("x-gateway-cache");
  };

  it("shows the hit rate and the cost saved, and purges a model's answers from the page", async () => {
    expect(await ask()).toBe("miss");
    expect(await ask()).toBe("hit");
    const page = await signedIn(masterKey);
    await openView(page, "Cache");
    await eventually(async () => {
      expect(await tileValue(page, "Hit rate")).toBe("50.0 %");
      expect(Number((await tileValue(page, "Cost saved")).replace("$", ""))).toBeGreaterThan(0);
    }, 5000);
    await page.getByRole("row").filter({ hasText: "gpt-4o-mini" }).getByText("50.0 %").waitFor();

    const purge = page.getByRole("form", { name: "Purge" });
    await purge.getByLabel("Model").fill("gpt-4o-mini");
    await purge.getByRole("button", { name: "Purge" }).click();
    const answer = purge.getByRole("status");
    await expect.poll(() => answer.textContent()).toMatch(/^Purged \d+ cached answers?\.$/);
    expect(Number((await answer.textContent())?.match(/\d+/)?.[0])).toBeGreaterThanOrEqual(1);
    expect(await ask()).toBe("miss");
    await page.screenshot({ path: `${screenshots}cache.png` });
    await page.close();
  });

  it("refuses a purge that names neither a key nor a model, saying why", async () => {
    const page = await signedIn(masterKey);
    await openView(page, "Cache");
    const purge = page.getByRole("form", { name: "Purge" });
    await purge.getByRole("button", { name: "Purge" }).click();
    await expect
      .poll(() => purge.getByRole("status").textContent())
      .toContain("name a keyId, a model or both");
    await page.close();
  });
});
