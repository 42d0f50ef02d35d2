import { readFile } from "node:fs/promises";
import { toFile } from "openai";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { dashboardHarness, masterKey, openView, screenshots, testKey } from "../support/dashboard.ts";

/** A JSONL batch input of chat lines for gpt-4o-mini, one per prompt. */
const batchInput = (prompts: string[]) =>
  `${prompts
    .map((content, index) =>
      JSON.stringify({
        custom_id: `line-${index}`,
        method: "POST",
        url: "/v1/chat/completions",
        body: { model: "gpt-4o-mini", messages: [{ role: "user", content }] },
      }),
    )
    .join("\n")}\n`;

/**
 * The Batches view in Chromium against a real gateway: every key's batches (OpenAI's and
 * Anthropic's) live with their progress, a batch cancelled from the page, its output downloaded.
 */
describe("the Batches view", () => {
  const harness = dashboardHarness({
    // Two batch lines at a time (half of 4 slots), the coordinator looking every 100 ms: a batch
    // of slow lines stays in progress long enough to be cancelled from the page.
    overrides: { workers: { concurrency: 4 }, batches: { tickMs: 100 } },
  });
  const { admin, openai, signedIn } = harness;

  const createBatch = async (prompts: string[]) => {
    const file = await openai().files.create({
      file: await toFile(Buffer.from(batchInput(prompts)), "input.jsonl"),
      purpose: "batch",
    });
    return openai().batches.create({
      input_file_id: file.id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
    });
  };

  const rowOf = (page: Page, batchId: string) => page.getByRole("row").filter({ hasText: batchId });

  it("shows a batch reaching 100 %, completed, and downloads its output from the page", async () => {
    const batch = await createBatch(["one", "two", "three", "four", "five"].map((word) => `say ${word}`));
    const page = await signedIn(masterKey);
    await openView(page, "Batches");
    const progress = page.getByRole("progressbar", { name: `Progress of ${batch.id}` });
    await expect.poll(() => progress.getAttribute("aria-valuenow"), { timeout: 15_000 }).toBe("100");
    const row = rowOf(page, batch.id);
    await row.getByText("completed", { exact: true }).waitFor();
    // Lines, completed, failed: the columns after the progress bar.
    expect((await row.getByRole("cell").allTextContents()).slice(4, 7)).toEqual(["5", "5", "0"]);

    const download = page.waitForEvent("download");
    await row.getByRole("link", { name: `Output of ${batch.id}` }).click();
    const saved = await (await download).path();
    const lines = (await readFile(saved, "utf8"))
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines).toHaveLength(5);
    expect(lines.map((line) => line.custom_id)).toEqual([0, 1, 2, 3, 4].map((index) => `line-${index}`));
    expect(lines.every((line) => line.response.status_code === 200)).toBe(true);
    await page.close();
  });

  it("cancels a running batch after a confirmation on the page", async () => {
    const batch = await createBatch(
      Array.from({ length: 20 }, (_, index) => `slow ${index} [emulator:latency=1000]`),
    );
    const page = await signedIn(masterKey);
    await openView(page, "Batches");
    const row = rowOf(page, batch.id);
    await row.getByText("in_progress", { exact: true }).waitFor();
    await row.getByRole("button", { name: `Cancel ${batch.id}` }).click();
    // Nothing is cancelled before the confirmation.
    expect((await openai().batches.retrieve(batch.id)).status).toBe("in_progress");
    await page
      .getByRole("group", { name: `Cancel batch ${batch.id}?` })
      .getByRole("button", { name: "Cancel the batch" })
      .click();
    await expect
      .poll(() => page.getByRole("status").first().textContent())
      .toMatch(new RegExp(`Batch ${batch.id} is (cancelling|cancelled)`));
    await row.getByText(/^(cancelling|cancelled)$/).waitFor();
    expect(["cancelling", "cancelled"]).toContain((await openai().batches.retrieve(batch.id)).status);
    await row.getByText("cancelled", { exact: true }).waitFor({ timeout: 15_000 });
    await page.screenshot({ path: `${screenshots}batches.png` });
    await page.close();
  });

  it("lists Anthropic's message batches beside OpenAI's, and only for admins", async () => {
    const answer = await fetch(`${harness.gateway.url}/v1/messages/batches`, {
      method: "POST",
      headers: { "x-api-key": testKey, "content-type": "application/json" },
      body: JSON.stringify({
        requests: [
          {
            custom_id: "only",
            params: { model: "gpt-4o-mini", max_tokens: 16, messages: [{ role: "user", content: "hi" }] },
          },
        ],
      }),
    });
    const created = (await answer.json()) as { id: string };
    expect(answer.status, JSON.stringify(created)).toBe(200);
    const page = await signedIn(masterKey);
    await openView(page, "Batches");
    const row = rowOf(page, created.id);
    await row.getByText("Anthropic", { exact: true }).waitFor();
    await row.getByText("completed", { exact: true }).waitFor({ timeout: 15_000 });
    await page.close();

    const listed = await admin("GET", "/admin/batches?limit=100");
    const apis = (listed.body.data as Array<{ id: string; api: string }>).map((batch) => batch.api);
    expect(new Set(apis)).toEqual(new Set(["openai", "anthropic"]));
    expect((await admin("GET", "/admin/batches", undefined, testKey)).status).toBe(403);
    expect((await admin("GET", `/admin/batches/${created.id}/errors`)).status).toBe(404);
  });
});
