import { describe, expect, it } from "vitest";
import { dashboardHarness, openView, tileValue } from "../support/dashboard.ts";
import { eventually } from "../support/eventually.ts";

/**
 * The dashboard of a gateway on the Kafka bus: events reach ClickHouse through Kafka and the sink,
 * and breakers and quotas live in Redis — the shape of a cluster. A call made with the SDK shows on
 * Overview and in Requests within 2 s, and a breaker the workers opened shows on Providers.
 */
describe("the dashboard on the Kafka bus", () => {
  const harness = dashboardHarness({
    bus: "kafka",
    overrides: {
      models: [
        { name: "gpt-4o-mini", provider: "emulated" },
        { name: "flaky", provider: "emulated", model: "flaky-model" },
      ],
      routing: { maxAttempts: 1, circuitBreakers: true, breakerFailures: 2, breakerCooldownMs: 120_000 },
    },
  });

  it("shows a call within 2 s on Overview and in Requests, and a breaker opened in Redis", async () => {
    const page = await harness.signedIn();
    await eventually(async () => expect(await tileValue(page, "Requests")).toBe("0"), 5000);
    await harness.openai().chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "over kafka" }],
    });
    const answeredAt = Date.now();
    await eventually(async () => expect(await tileValue(page, "Requests")).toBe("1"), 2000);
    expect(Date.now() - answeredAt).toBeLessThanOrEqual(2000);
    await openView(page, "Requests");
    await page.getByRole("row").filter({ hasText: "emulated/gpt-4o-mini" }).waitFor({ timeout: 2000 });

    for (let failure = 0; failure < 2; failure++)
      await harness
        .openai()
        .chat.completions.create({
          model: "flaky",
          messages: [{ role: "user", content: "[emulator:status=500]" }],
        })
        .catch(() => undefined);
    await openView(page, "Providers and routes");
    await page
      .getByRole("table", { name: "Deployments" })
      .getByRole("row")
      .filter({ hasText: "emulated/flaky-model" })
      .getByText(/^open · half-opens in \d+ s$/)
      .waitFor();
    await page.close();
  });
});
