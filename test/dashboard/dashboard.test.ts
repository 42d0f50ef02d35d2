import { describe, expect, it } from "vitest";
import {
  dashboardHarness,
  focusByTab,
  injectedScriptRan,
  masterKey,
  openView,
  screenshots,
  tileValue,
} from "../support/dashboard.ts";
import { eventually } from "../support/eventually.ts";

/**
 * The dashboard in a real browser (Debian's Chromium driven by playwright-core), against a real
 * gateway with ClickHouse: sign-in and its cookie, live traffic on Overview and Requests, names and
 * text users chose shown as text, CSRF on changes, a team's view of its own requests, keyboard use.
 */
describe("the dashboard", () => {
  const harness = dashboardHarness({
    overrides: {
      analytics: {
        content: { store: true, redact: ["secret-[0-9]+"] },
        sink: { maxWaitMs: 200 },
      },
    },
  });
  const { admin, openai, newPage, signedIn } = harness;
  const url = () => harness.gateway.url;

  it("signs in with the master key into a sealed, HttpOnly, SameSite=Strict cookie, and signs out", async () => {
    const page = await newPage();
    await page.goto(`${url()}/ui`);
    await page.getByLabel("Gateway key").fill("not-a-key-of-this-gateway");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("alert").textContent()).resolves.toContain("not valid");
    await page.getByLabel("Gateway key").fill(masterKey);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    const [cookie] = await page.context().cookies();
    expect(cookie).toMatchObject({ name: "gw_session", httpOnly: true, sameSite: "Strict" });
    expect(cookie?.value).not.toContain(masterKey);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("Gateway key").waitFor();
    await page.reload();
    await page.getByLabel("Gateway key").waitFor();
    await page.close();
  });

  it("serves its page under a strict Content-Security-Policy, with nothing from elsewhere", async () => {
    const response = await fetch(`${url()}/ui`);
    const policy = response.headers.get("content-security-policy") ?? "";
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("script-src 'self'");
    expect(policy).not.toContain("unsafe-inline");
    expect(await response.text()).not.toMatch(/https?:\/\//);
  });

  it("shows a request made with the OpenAI SDK on Overview and in Requests within 2 s, with its cost", async () => {
    const page = await signedIn();
    const before = Number((await tileValue(page, "Requests")).replaceAll(",", ""));
    const answer = await openai().chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "a request the dashboard should show, with secret-1234 inside" }],
    });
    const answeredAt = Date.now();
    await eventually(
      async () => expect(Number((await tileValue(page, "Requests")).replaceAll(",", ""))).toBe(before + 1),
      2000,
    );
    const onOverview = Date.now() - answeredAt;
    expect(await tileValue(page, "Cost")).toMatch(/^\$\d/);
    await page.screenshot({ path: `${screenshots}overview.png` });
    await openView(page, "Requests");
    const requestId = answer.id
      .replace(/^chatcmpl-/, "")
      .replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, "$1-$2-$3-$4-$5");
    const row = page.getByRole("row").filter({ hasText: "gpt-4o-mini" }).first();
    await row.waitFor({ timeout: 2000 });
    expect(await row.textContent()).toMatch(/\$0\.0000\d+|\$\d\.\d+e-\d/);
    await page.screenshot({ path: `${screenshots}requests.png` });
    await row.getByRole("button").click();
    await page.getByRole("heading", { name: `Request ${requestId}` }).waitFor();
    await page.getByText("Call emulated/gpt-4o-mini — completed").waitFor();
    await page.getByText("a request the dashboard should show").first().waitFor();
    // Stored with the operator's pattern redacted, and the redaction marked as the gateway's.
    await page.locator("mark.redaction", { hasText: "[REDACTED]" }).first().waitFor();
    expect(await page.content()).not.toContain("secret-1234");
    // The prompt reads as the conversation it is, not as the gateway's stored JSON.
    const message = page.locator(".content ol.messages li").first();
    expect(await message.locator(".role").textContent()).toBe("user");
    expect(await message.textContent()).toContain("a request the dashboard should show");
    expect(await page.locator(".content").textContent()).not.toContain("toolCallId");
    await page.screenshot({ path: `${screenshots}request.png` });
    expect(onOverview).toBeLessThanOrEqual(2000);
    await page.close();
  });

  it("shows names and text users chose as text, never as markup", async () => {
    const markup = `<img src=x onerror="window.__injected=1"><script>window.__injected=2</script>`;
    await admin("POST", "/admin/teams", { id: "xss", name: markup });
    const created = await admin("POST", "/admin/keys", {
      team: "xss",
      name: `"><${markup}`,
      apis: ["chat", "dashboard"],
    });
    expect(created, JSON.stringify(created.body)).toMatchObject({ status: 201 });
    const key = created.body;
    await openai(key.key)
      .chat.completions.create(
        { model: "gpt-4o-mini", messages: [{ role: "user", content: `hello ${markup}` }] },
        { headers: { "x-gateway-tags": `note=${markup.slice(0, 60)}` } },
      )
      .catch(() => {});
    // An unknown model is refused, and recorded with the name the caller sent.
    await openai()
      .chat.completions.create({ model: markup, messages: [{ role: "user", content: "hi" }] })
      .catch(() => {});
    const page = await signedIn();
    const dialogs: string[] = [];
    page.on("dialog", (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await openView(page, "Requests");
    await page.getByRole("row").filter({ hasText: "<img src=x" }).first().waitFor({ timeout: 5000 });
    await page.getByRole("row").filter({ hasText: "xss" }).first().getByRole("button").click();
    await page.getByText(`hello ${markup}`).first().waitFor();
    expect(await injectedScriptRan(page)).toBe(false);
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(dialogs).toEqual([]);
    await page.close();

    // Signed in with that key, its name is in the page the gateway serves (its session), as text.
    const own = await signedIn(key.key);
    own.on("dialog", (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await own.reload();
    await own.getByRole("navigation").getByText(`"><${markup}`, { exact: false }).waitFor();
    expect(await injectedScriptRan(own)).toBe(false);
    expect(await own.locator('img[src="x"]').count()).toBe(0);
    expect(dialogs).toEqual([]);
    await own.close();
  });

  it("refuses a change from a session that does not carry its CSRF token", async () => {
    const page = await signedIn();
    const status = await page.evaluate(async () => {
      const answer = await fetch("/admin/teams", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ id: "csrf-less" }),
      });
      return answer.status;
    });
    expect(status).toBe(403);
    const csrf = await page.evaluate(
      async () => ((await (await fetch("/ui/api/session")).json()) as { csrf: string }).csrf,
    );
    const withToken = await page.evaluate(async (token) => {
      const answer = await fetch("/admin/teams", {
        method: "POST",
        headers: { "content-type": "application/json", "x-csrf-token": token },
        body: JSON.stringify({ id: "with-token" }),
      });
      return answer.status;
    }, csrf);
    expect(withToken).toBe(201);
    await page.close();
  });

  it("shows a team's key with the dashboard right its own team's requests only, and no admin API", async () => {
    for (const id of ["seen", "unseen"]) await admin("POST", "/admin/teams", { id });
    const { body: own } = await admin("POST", "/admin/keys", { team: "seen", apis: ["chat", "dashboard"] });
    const { body: other } = await admin("POST", "/admin/keys", { team: "unseen" });
    expect(other.key).toBeTruthy();
    await openai(own.key).chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "mine" }],
    });
    await openai(other.key).chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "theirs" }],
    });
    const { body: plain } = await admin("POST", "/admin/keys", { team: "seen" });
    const refused = await newPage();
    await refused.goto(`${url()}/ui`);
    await refused.getByLabel("Gateway key").fill(plain.key);
    await refused.getByRole("button", { name: "Sign in" }).click();
    await expect(refused.getByRole("alert").textContent()).resolves.toContain("dashboard right");
    await refused.close();

    const page = await signedIn(own.key);
    await openView(page, "Requests");
    await page.getByRole("row").filter({ hasText: "seen" }).first().waitFor({ timeout: 5000 });
    const rows = await page.getByRole("row").allTextContents();
    expect(rows.some((text) => text.includes("unseen"))).toBe(false);
    const adminStatus = await page.evaluate(async () => (await fetch("/admin/keys")).status);
    expect(adminStatus).toBe(403);
    await page.close();
  });

  it("is used with the keyboard alone: sign in, every view, a request's detail", async () => {
    const page = await newPage();
    await page.goto(`${url()}/ui`);
    // The key field has the focus on arrival.
    await page.getByLabel("Gateway key").waitFor();
    expect(
      await page.evaluate(
        () =>
          (globalThis as unknown as { document: { activeElement: { name?: string } | null } }).document
            .activeElement?.name,
      ),
    ).toBe("key");
    await page.keyboard.type(masterKey);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    // Every view, in the navigation's order, each link reached with Tab and opened with Enter;
    // on Requests, a request's detail too; then round to the first view again.
    const views = await page.getByRole("navigation").getByRole("link").allTextContents();
    expect(views).toEqual([
      "Overview",
      "Spend",
      "Requests",
      "Keys and teams",
      "Providers and routes",
      "Batches",
      "Cache",
      "SQL",
      "Audit log",
    ]);
    for (const view of [...views.slice(1), "Overview"]) {
      await focusByTab(page, "nav a", view);
      await page.keyboard.press("Enter");
      await page.getByRole("heading", { name: view, exact: true }).waitFor();
      if (view !== "Requests") continue;
      await page.getByRole("row").filter({ hasText: "gpt-4o-mini" }).first().waitFor({ timeout: 5000 });
      await focusByTab(page, "button.link");
      await page.keyboard.press("Enter");
      await page.getByRole("heading", { name: /^Request / }).waitFor();
    }
    await page.close();
  });
});
