import { readFile } from "node:fs/promises";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { dashboardHarness, injectedScriptRan, openView, screenshots } from "../support/dashboard.ts";
import { eventually } from "../support/eventually.ts";

/**
 * The Spend view in a real browser against a real gateway: budgets that move as calls settle,
 * spend grouped by team and its CSV, a team's session seeing its own spend and budgets only, and
 * tags users chose shown as text.
 */
describe("the Spend view", () => {
  const harness = dashboardHarness();
  const { admin, openai, signedIn } = harness;

  /** A team with a budget and a key in it; the key's secret and id. */
  async function budgetedTeam(id: string, team: Record<string, unknown>, key: Record<string, unknown> = {}) {
    expect(await admin("POST", "/admin/teams", { id, ...team })).toMatchObject({ status: 201 });
    const created = await admin("POST", "/admin/keys", { team: id, ...key });
    expect(created, JSON.stringify(created.body)).toMatchObject({ status: 201 });
    return created.body;
  }

  const call = (key: string, headers: Record<string, string> = {}) =>
    openai(key).chat.completions.create(
      { model: "gpt-4o-mini", messages: [{ role: "user", content: "what does this cost?" }] },
      { headers },
    );

  /** The spent value of a budget's bar, as assistive technology reads it. */
  const spentOn = async (page: Page, name: string) =>
    Number(await page.getByRole("progressbar", { name }).getAttribute("aria-valuenow"));

  /** The row of a group in the table of spend (the chart's legend has rows too), once it is shown. */
  const rowOf = async (page: Page, group: string) => {
    const row = page
      .getByRole("table", { name: /^Spend by / })
      .getByRole("row")
      .filter({ hasText: group });
    await row.waitFor({ timeout: 15_000 });
    return row;
  };

  it("moves a team's budget bar when a call with its key settles, without a reload", async () => {
    const key = await budgetedTeam("spend-budgeted", { budget: { dailyUsd: 1 } });
    const page = await signedIn();
    await openView(page, "Spend");
    const bar = "Team spend-budgeted daily budget";
    await page.getByRole("progressbar", { name: bar }).waitFor();
    expect(await page.getByRole("progressbar", { name: bar }).getAttribute("aria-valuemax")).toBe("1");
    const before = await spentOn(page, bar);
    await call(key.key);
    await eventually(async () => expect(await spentOn(page, bar)).toBeGreaterThan(before), 5000);
    expect(await page.getByRole("progressbar", { name: bar }).getAttribute("aria-valuetext")).toMatch(
      /spent, .* held, .* left of \$1\.00/,
    );
    await page
      .getByText(/daily: .* (on track|will exceed by \$)/)
      .first()
      .waitFor();
    await page.close();
  });

  it("groups spend by team, with a CSV of the groups to download", async () => {
    const key = await budgetedTeam("spend-grouped", { budget: { monthlyUsd: 10 } });
    await call(key.key);
    const page = await signedIn();
    await openView(page, "Spend");
    const row = await rowOf(page, "spend-grouped");
    await eventually(async () => {
      const text = (await row.textContent()) ?? "";
      expect(Number(/\$(\S+)$/.exec(text)?.[1]), text).toBeGreaterThan(0);
    }, 10_000);
    await page.screenshot({ path: `${screenshots}spend.png`, fullPage: true });
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: "Download CSV" }).click(),
    ]);
    const csv = await readFile(await download.path(), "utf8");
    const [header, ...lines] = csv.trim().split("\r\n");
    expect(header).toMatch(
      /^"group_name","total_requests","total_input_tokens","total_output_tokens","total_cost"/,
    );
    const line = lines.find((text) => text.startsWith('"spend-grouped",'));
    expect(line, csv).toBeDefined();
    expect(Number(line?.split(",")[4]?.replaceAll('"', ""))).toBeGreaterThan(0);
    await page.close();
  });

  it("shows a team's session its own team's spend and budgets only", async () => {
    const own = await budgetedTeam(
      "spend-own",
      { budget: { dailyUsd: 2 } },
      { apis: ["chat", "dashboard"], budget: { monthlyUsd: 5 } },
    );
    const other = await budgetedTeam("spend-other", { budget: { dailyUsd: 2 } });
    await call(own.key);
    await call(other.key);
    const page = await signedIn(own.key);
    await openView(page, "Spend");
    await rowOf(page, "spend-own");
    await page.getByRole("progressbar", { name: `Key ${own.id} · team spend-own monthly budget` }).waitFor();
    const bars = await page
      .getByRole("progressbar")
      .evaluateAll((elements) => elements.map((element) => element.getAttribute("aria-label")));
    expect(bars.sort()).toEqual([
      `Key ${own.id} · team spend-own monthly budget`,
      "Team spend-own daily budget",
    ]);
    const rows = await page.getByRole("row").allTextContents();
    expect(rows.filter((text) => /spend-(other|budgeted|grouped)/.test(text))).toEqual([]);
    await page.close();
  });

  it("shows tags and team names users chose as text, never as markup", async () => {
    const markup = `<img src=x onerror="window.__injected=1">`;
    const key = await budgetedTeam("spend-xss", { name: markup, budget: { dailyUsd: 1 } });
    await call(key.key, { "x-gateway-tags": `note=${markup}` });
    const page = await signedIn();
    await openView(page, "Spend");
    await page.getByRole("group", { name: "Group by" }).getByText("tag", { exact: true }).click();
    await rowOf(page, `note=${markup}`);
    await page.getByText(`Team ${markup} (spend-xss)`).waitFor();
    expect(await injectedScriptRan(page)).toBe(false);
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    await page.close();
  });
});
