import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import OpenAI from "openai";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll } from "vitest";
import type { RunningGateway } from "../../app/gateway.ts";
import { type OpenAIEmulator, startOpenAIEmulator } from "../emulators/openai.ts";
import { adminApi } from "./admin.ts";
import { launchBrowser } from "./browser.ts";
import { type BusKind, masterKey, startTestGateway, testConfig, testKey } from "./gateway.ts";

/** Where the browser tests save a picture of each page (the README and docs/dashboard.md show them). */
export const screenshots = fileURLToPath(new URL("../../docs/screenshots/", import.meta.url));

export interface DashboardHarness {
  readonly gateway: RunningGateway;
  readonly emulator: OpenAIEmulator;
  readonly browser: Browser;
  /** The admin API, with the master key. */
  admin: ReturnType<typeof adminApi>;
  /** The official OpenAI SDK pointed at the gateway, with `key` (the test key by default). */
  openai(key?: string): OpenAI;
  /** A page of the tests' size whose waits fail after 10 s, naming what they waited for. */
  newPage(): Promise<Page>;
  /** A page signed in with `key` through the sign-in form, on Overview. */
  signedIn(key?: string): Promise<Page>;
}

/**
 * A gateway for the dashboard's browser tests, started in the calling file's beforeAll and stopped
 * in its afterAll: model `gpt-4o-mini` on an OpenAI emulator, content storage on, the sink flushing
 * every 200 ms, and the embedded ClickHouse as on `npm start` (it defines the read-only user the
 * dashboard's queries run as, which the test run's shared ClickHouse cannot), and a Chromium.
 */
export function dashboardHarness(options: { bus?: BusKind; overrides?: Record<string, unknown> } = {}) {
  const workDir = mkdtempSync(join(tmpdir(), "gateway-dashboard-"));
  const state = {} as { gateway: RunningGateway; emulator: OpenAIEmulator; browser: Browser };
  beforeAll(async () => {
    state.emulator = await startOpenAIEmulator({ apiKey: "sk-emulated" });
    state.gateway = await startTestGateway(
      testConfig(options.bus ?? "in-process", {
        providers: [
          {
            name: "emulated",
            type: "openai",
            options: { baseUrl: state.emulator.url, apiKey: "sk-emulated" },
          },
        ],
        models: [{ name: "gpt-4o-mini", provider: "emulated" }],
        analytics: { content: { store: true }, sink: { maxWaitMs: 200 } },
        clickhouse: { url: "", dataDir: join(workDir, "clickhouse") },
        ...options.overrides,
      }),
    );
    state.browser = await launchBrowser();
    mkdirSync(screenshots, { recursive: true });
  });
  afterAll(async () => {
    await state.browser?.close();
    await state.gateway?.close();
    await state.emulator?.close();
    rmSync(workDir, { recursive: true, force: true });
  });

  const harness: DashboardHarness = {
    get gateway() {
      return state.gateway;
    },
    get emulator() {
      return state.emulator;
    },
    get browser() {
      return state.browser;
    },
    admin: adminApi(() => state.gateway.url),
    openai: (key = testKey) => new OpenAI({ baseURL: `${state.gateway.url}/v1`, apiKey: key, maxRetries: 0 }),
    async newPage() {
      const page = await state.browser.newPage({ viewport: { width: 1400, height: 900 } });
      // How long a wait may last before it fails, not how fast the page must be (BENCHMARKS.md says
      // that): a cold Chromium's first page on a 2-core machine running the suite took over 10 s.
      page.setDefaultTimeout(30_000);
      return page;
    },
    async signedIn(key = masterKey) {
      const page = await harness.newPage();
      await page.goto(`${state.gateway.url}/ui`);
      await page.getByLabel("Gateway key").fill(key);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("heading", { name: "Overview" }).waitFor();
      return page;
    },
  };
  return harness;
}

/** Opens a view from the navigation and waits for its heading. */
export async function openView(page: Page, label: string, heading = label): Promise<void> {
  await page.getByRole("navigation").getByRole("link", { name: label, exact: true }).click();
  await page.getByRole("heading", { name: heading, exact: true }).waitFor();
}

/** The value shown in a tile (Overview, Cache). */
export async function tileValue(page: Page, label: string): Promise<string> {
  const tile = page.locator(".tile").filter({ has: page.getByText(label, { exact: true }) });
  return (await tile.locator(".tile-value").textContent()) ?? "";
}

/** Presses Tab until the focused element matches `selector` (and has `text`, when given); at most 300 times. */
export async function focusByTab(page: Page, selector: string, text?: string): Promise<void> {
  for (let presses = 0; presses < 300; presses++) {
    await page.keyboard.press("Tab");
    const found = await page.evaluate(
      ([wanted, label]) => {
        // Runs in the page, where `document` exists; the test's types are Node's.
        const { document } = globalThis as unknown as {
          document: {
            activeElement: { matches(selector: string): boolean; textContent: string | null } | null;
          };
        };
        const element = document.activeElement;
        return !!element?.matches(wanted as string) && (label === null || element.textContent === label);
      },
      [selector, text ?? null] as const,
    );
    if (found) return;
  }
  throw new Error(`Tab never reached ${selector} ${text ?? ""}`);
}

/** Whether a script injected through user-controlled text ran in the page (it would set `__injected`). */
export async function injectedScriptRan(page: Page): Promise<boolean> {
  return page.evaluate(() => (globalThis as { __injected?: number }).__injected !== undefined);
}

export { masterKey, testKey };
