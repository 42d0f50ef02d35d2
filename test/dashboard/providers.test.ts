import { describe, expect, it } from "vitest";
import { dashboardHarness, openView, screenshots } from "../support/dashboard.ts";
import { eventually } from "../support/eventually.ts";

/**
 * The Providers and routes view: each deployment's breaker and quota use as the workers share them,
 * its calls, errors and 429s from ClickHouse, and the routes with their fallbacks.
 */
describe("the dashboard's Providers and routes", () => {
  const harness = dashboardHarness({
    overrides: {
      models: [
        {
          name: "gpt-4o-mini",
          deployments: [
            {
              provider: "emulated",
              model: "gpt-4o-mini",
              limits: { requestsPerMinute: 100, concurrency: 4 },
            },
          ],
        },
        { name: "flaky", provider: "emulated", model: "flaky-model", fallbacks: ["gpt-4o-mini"] },
        { name: "limited", provider: "emulated", model: "limited-model" },
      ],
      routing: { maxAttempts: 1, circuitBreakers: true, breakerFailures: 2, breakerCooldownMs: 120_000 },
    },
  });

  it("shows an open breaker, quota use, 429s and the routes' fallbacks", async () => {
    const openai = harness.openai();
    const ask = (model: string, content: string) =>
      openai.chat.completions.create({ model, messages: [{ role: "user", content }] }).catch(() => undefined);
    await ask("gpt-4o-mini", "hello");
    await ask("gpt-4o-mini", "hello again");
    // Two failures of flaky-model open its breaker (its fallback answers the callers meanwhile).
    await ask("flaky", "[emulator:status=500]");
    await ask("flaky", "[emulator:status=500]");
    await ask("limited", "[emulator:status=429] [emulator:retry-after-ms=1]");

    const page = await harness.signedIn();
    await openView(page, "Providers and routes");
    const deployments = page.getByRole("table", { name: "Deployments" });
    const row = (name: string) => deployments.getByRole("row").filter({ hasText: name });
    await row("emulated/flaky-model")
      .getByText(/^open · half-opens in \d+ s$/)
      .waitFor();
    await row("emulated/gpt-4o-mini").getByText("closed", { exact: true }).waitFor();
    await eventually(async () => {
      const cells = await row("emulated/gpt-4o-mini").getByRole("cell").allTextContents();
      // Calls over the last 15 minutes: the two asked plus the flaky route's fallbacks.
      expect(Number(cells[2])).toBeGreaterThanOrEqual(2);
      expect(cells[7]).toMatch(/^0\/4 at once · [2-9]\/100 req\/min$/);
    }, 5000);
    await eventually(async () => {
      const cells = await row("emulated/limited-model").getByRole("cell").allTextContents();
      expect(cells[4]).toBe("1");
      expect(cells[3]).toBe("100.0 %");
    }, 5000);
    const routes = page.getByRole("table", { name: "Routes" });
    expect(
      await routes.getByRole("row").filter({ hasText: "flaky" }).getByRole("cell").allTextContents(),
    ).toEqual(["flaky", "weighted", "emulated/flaky-model", "gpt-4o-mini", "–"]);
    await page.screenshot({ path: `${screenshots}providers.png`, fullPage: true });
    await page.close();
  });

  it("tells a team's session the same deployments, without any provider's address or credential", async () => {
    await harness.admin("POST", "/admin/teams", { id: "ops" });
    const { body } = await harness.admin("POST", "/admin/keys", { team: "ops", apis: ["chat", "dashboard"] });
    const answer = await fetch(`${harness.gateway.url}/ui/api/deployments`, {
      headers: { authorization: `Bearer ${body.key}` },
    });
    expect(answer.status).toBe(200);
    const text = await answer.text();
    expect(text).toContain("emulated/flaky-model");
    expect(text).not.toContain(harness.emulator.url);
    expect(text).not.toContain("sk-emulated");
  });
});
