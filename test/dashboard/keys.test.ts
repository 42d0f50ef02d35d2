import OpenAI from "openai";
import type { Locator, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import {
  dashboardHarness,
  focusByTab,
  injectedScriptRan,
  openView,
  screenshots,
} from "../support/dashboard.ts";
import { eventually } from "../support/eventually.ts";

/**
 * The Keys and teams page in a real browser against a real gateway: keys made, changed, rotated
 * and revoked in the page work (or stop working) for the official OpenAI SDK at once; a new key is
 * shown once and gone from the page when its panel closes; names users chose stay text.
 */
describe("the Keys and teams page", () => {
  const harness = dashboardHarness();
  const { admin, openai, signedIn } = harness;
  const chat = (key: string) =>
    openai(key).chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "hello from a key made in the dashboard" }],
    });

  it("creates a team and a key, shows the key once to copy, and revokes it", async () => {
    const page = await signedIn();
    await page.context().grantPermissions(["clipboard-read", "clipboard-write"]);
    await focusByTab(page, "nav a", "Keys and teams");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Keys and teams" }).waitFor();

    await submitNewTeam(page, "made-in-ui");
    await rowOf(page, "Teams", "made-in-ui").waitFor();
    await submitNewTeam(page, "made-in-ui");
    // The admin API's refusal of a second team with that id, shown as it answered.
    await expect(page.getByRole("alert").textContent()).resolves.toContain("exists already");

    await page.getByRole("button", { name: "New key" }).click();
    const form = page.getByRole("region", { name: "New key" });
    await form.getByRole("combobox", { name: /^Team/ }).selectOption("made-in-ui");
    await form.getByLabel("Name", { exact: true }).fill("checkout service");
    await form.getByLabel("Allowed models").fill("gpt-4o-mini");
    for (const api of ["chat", "dashboard"]) await form.getByLabel(api, { exact: true }).check();
    await form.getByLabel("Priority").selectOption("interactive");
    await form.getByLabel("Per UTC day").fill("2.5");
    await form.getByLabel("Requests per minute").fill("600");
    await form.getByLabel("Expires").fill("2099-12-31T12:00");
    await form.getByRole("button", { name: "Create key" }).click();

    const { panel, secret, id } = await oneTimeSecret(page);
    await panel.getByRole("button", { name: "Copy" }).click();
    await panel.getByText("Copied.").waitFor();
    expect(await clipboardOf(page)).toBe(secret);
    const { body: record } = await admin("GET", `/admin/keys/${id}`);
    expect(record).toMatchObject({
      team: "made-in-ui",
      name: "checkout service",
      models: ["gpt-4o-mini"],
      apis: ["chat", "dashboard"],
      priority: "interactive",
      budget: { dailyUsd: 2.5 },
      rateLimits: { requestsPerMinute: 600 },
    });
    const answer = await chat(secret);
    expect(answer.choices[0]?.message.content).toBeTruthy();

    await panel.getByRole("button", { name: "Close" }).click();
    await panel.waitFor({ state: "detached" });
    expect(await page.content()).not.toContain(secret);
    expect(page.url()).not.toContain(secret);

    const row = rowOf(page, "Keys", "checkout service");
    expect(await row.textContent()).toContain("active");
    await row.getByRole("button", { name: id }).click();
    const keyPanel = page.getByRole("region", { name: `Key ${id}` });
    await keyPanel.getByRole("button", { name: "Revoke" }).click();
    await keyPanel.getByRole("button", { name: "Yes, revoke" }).click();
    await row.filter({ hasText: "revoked" }).waitFor();
    await expect(chat(secret)).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    await page.close();
  });

  it("changes a key's budget and models, and rotates it with a grace period", async () => {
    await admin("POST", "/admin/teams", { id: "edited" });
    const { body: created } = await admin("POST", "/admin/keys", {
      team: "edited",
      name: "to be edited",
      models: ["gpt-4o-mini"],
      apis: ["chat"],
      priority: "batch",
      budget: { dailyUsd: 5, softLimitPercent: 90 },
      expiresAt: "2099-01-01T00:00:00Z",
    });
    const page = await signedIn();
    await openView(page, "Keys and teams");
    await page.getByRole("combobox", { name: /^Team/ }).selectOption("edited");
    await rowOf(page, "Keys", "to be edited").getByRole("button", { name: created.id }).click();
    const keyPanel = page.getByRole("region", { name: `Key ${created.id}` });
    await keyPanel.getByLabel("Per UTC day").fill("7.5");
    await keyPanel.getByLabel("Per UTC month").fill("100");
    await keyPanel.getByLabel("Allowed models").fill("gpt-4o-mini, gpt-4o*");
    await keyPanel.getByRole("button", { name: "Save key" }).click();
    await eventually(async () => {
      const { body } = await admin("GET", `/admin/keys/${created.id}`);
      // What the form showed and was left alone is not sent, so it is as it was.
      expect(body).toMatchObject({
        name: "to be edited",
        apis: ["chat"],
        priority: "batch",
        expiresAtMs: Date.parse("2099-01-01T00:00:00Z"),
        models: ["gpt-4o-mini", "gpt-4o*"],
        budget: { dailyUsd: 7.5, monthlyUsd: 100, totalUsd: null, softLimitPercent: 90 },
        spend: { day: { spentUsd: 0 } },
      });
    });

    await keyPanel.getByLabel("Grace period").fill("600");
    await keyPanel.getByRole("button", { name: "Rotate" }).click();
    const { panel, secret, id } = await oneTimeSecret(page);
    expect(id).toBe(created.id);
    expect(secret).not.toBe(created.key);
    await chat(secret);
    await chat(created.key);
    await panel.getByRole("button", { name: "Close" }).click();
    await panel.waitFor({ state: "detached" });
    expect(await page.content()).not.toContain(secret);
    await keyPanel.getByRole("button", { name: "Close" }).click();
    await page.getByRole("combobox", { name: /^Team/ }).selectOption("");
    await page.getByRole("heading", { name: "Keys", exact: true }).waitFor();
    await page.screenshot({ path: `${screenshots}keys.png` });
    await page.close();
  });

  it("shows names and metadata users chose as text, never as markup", async () => {
    const markup = `<img src=x onerror="window.__injected=1">`;
    await admin("POST", "/admin/teams", { id: "markup", name: markup, metadata: { note: markup } });
    const { body: created } = await admin("POST", "/admin/keys", {
      team: "markup",
      name: markup,
      metadata: { note: markup },
    });
    const page = await signedIn();
    const dialogs: string[] = [];
    page.on("dialog", (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await openView(page, "Keys and teams");
    await rowOf(page, "Teams", markup).waitFor();
    await rowOf(page, "Keys", markup).getByRole("button", { name: created.id }).click();
    await page
      .getByRole("region", { name: `Key ${created.id}` })
      .getByText(`note=${markup}`)
      .waitFor();
    expect(await injectedScriptRan(page)).toBe(false);
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(dialogs).toEqual([]);
    await page.close();
  });
});

/** Fills and submits the New team form. */
async function submitNewTeam(page: Page, id: string) {
  await page.getByRole("button", { name: "New team" }).click();
  const form = page.getByRole("region", { name: "New team" });
  await form.getByLabel("Team id").fill(id);
  await form.getByLabel("Name", { exact: true }).fill("Made in the dashboard");
  await form.getByLabel("Per UTC month").fill("50");
  await form.getByRole("button", { name: "Create team" }).click();
}

/** A row of the page's Teams or Keys table holding `text`. */
function rowOf(page: Page, table: "Teams" | "Keys", text: string): Locator {
  return page.getByRole("table", { name: table }).getByRole("row").filter({ hasText: text });
}

/** The panel that shows a new or rotated key once, the key in it, and the key's id. */
async function oneTimeSecret(page: Page) {
  const panel = page.getByRole("region", { name: /^New key for / });
  const secret = (await panel.locator("code").textContent()) ?? "";
  const heading = (await panel.getByRole("heading").textContent()) ?? "";
  expect(secret).toMatch(/^gwk-/);
  return { panel, secret, id: heading.replace(/^New key for (\w+).*$/, "$1") };
}

/** What the page's clipboard holds (the page's context must be allowed to read it). */
async function clipboardOf(page: Page): Promise<string> {
  // Runs in the page, where `navigator` exists; the test's types are Node's.
  return page.evaluate(() =>
    (
      globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }
    ).navigator.clipboard.readText(),
  );
}
