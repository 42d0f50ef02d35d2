import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { dashboardHarness, openView, screenshots } from "../support/dashboard.ts";
import { eventually } from "../support/eventually.ts";

/**
 * The admin pages of the dashboard in a real browser against a real gateway with ClickHouse: SQL
 * (a statement's table and chart, a refusal's message, a named report in one click) and the audit
 * log (an admin action found, filtered), and neither within a team's reach.
 */
describe("the dashboard's SQL and audit log", () => {
  const harness = dashboardHarness();
  const { admin, openai, signedIn } = harness;

  /** The rows of the table labelled `label`, without its header. */
  const rowsOf = (page: Page, label: string) =>
    page.getByRole("table", { name: label }).locator(".table-row");

  /** Runs `sql` from the SQL page with Ctrl+Enter. */
  async function runSql(page: Page, sql: string): Promise<void> {
    const editor = page.getByLabel("Query (ClickHouse SQL, read-only)");
    await editor.fill(sql);
    await editor.press("Control+Enter");
  }

  it("runs a statement into a table and a chart, with its row count", async () => {
    for (const content of ["one", "two", "three"])
      await openai().chat.completions.create({
        model: "gpt-4o-mini",
        messages: [{ role: "user", content }],
      });
    const page = await signedIn();
    await openView(page, "SQL");
    const sql =
      "SELECT toStartOfMinute(received_at) AS minute, count() AS requests FROM requests GROUP BY minute ORDER BY minute";
    // The sink lands requests within a fraction of a second; run again until they are there.
    await eventually(async () => {
      await runSql(page, sql);
      await page.getByText(/^Query: \d+ rows? in [\d.]+ ms$/).waitFor({ timeout: 2000 });
      expect(await rowsOf(page, "Result").count()).toBeGreaterThan(0);
    }, 10_000);
    const chart = page.getByRole("img", { name: "requests by minute" });
    const width = await chart
      .locator("canvas")
      .evaluate((canvas) => (canvas as unknown as { width: number }).width);
    expect(width).toBeGreaterThan(0);
    await page.screenshot({ path: `${screenshots}sql.png` });
    // A first column that is not a time names bars instead.
    await runSql(page, "SELECT model_requested, count() AS calls FROM requests GROUP BY model_requested");
    await page.getByRole("img", { name: "calls by model_requested" }).locator("canvas").waitFor();
    await page.close();
  });

  it("shows the API's refusal of a statement that is not a query", async () => {
    const page = await signedIn();
    await openView(page, "SQL");
    await runSql(page, "DROP TABLE requests");
    await expect(page.getByRole("alert").textContent()).resolves.toContain("not DROP");
    await page.close();
  });

  it("runs a named report with one click", async () => {
    await openai().chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "hi" }],
    });
    const page = await signedIn();
    await openView(page, "SQL");
    await eventually(async () => {
      await page.getByRole("button", { name: "errors-by-provider" }).click();
      await page
        .getByText(/^Report errors-by-provider, the last 24 hours: [1-9]\d* rows?/)
        .waitFor({ timeout: 2000 });
    }, 10_000);
    await rowsOf(page, "Result").filter({ hasText: "emulated" }).waitFor();
    await page.close();
  });

  it("shows an admin action in the audit log, narrowed by action", async () => {
    await admin("POST", "/admin/teams", { id: "audited" });
    await admin("POST", "/admin/keys", { team: "audited" });
    const page = await signedIn();
    await openView(page, "Audit log");
    const rows = rowsOf(page, "Audit log");
    await rows.filter({ hasText: "team.create" }).filter({ hasText: "audited" }).waitFor({ timeout: 5000 });
    await rows.filter({ hasText: "key.create" }).first().waitFor();
    await page.getByLabel("Action (or its start, e.g. team.)").fill("team.create");
    await page.getByRole("button", { name: "Apply" }).click();
    await eventually(async () => {
      const shown = await rows.allTextContents();
      expect(shown.length).toBeGreaterThan(0);
      expect(shown.every((text) => text.includes("team.create"))).toBe(true);
    }, 5000);
    await page.screenshot({ path: `${screenshots}audit.png` });
    await page.close();
  });

  it("keeps SQL and the audit log from a team's session", async () => {
    await admin("POST", "/admin/teams", { id: "viewers" });
    const { body } = await admin("POST", "/admin/keys", { team: "viewers", apis: ["chat", "dashboard"] });
    const page = await signedIn(body.key);
    const views = await page.getByRole("navigation").getByRole("link").allTextContents();
    expect(views).toContain("Requests");
    expect(views).not.toContain("SQL");
    expect(views).not.toContain("Audit log");
    const status = await page.evaluate(async () => (await fetch("/ui/api/queries/audit-log")).status);
    expect(status).toBe(403);
    await page.close();
  });
});
