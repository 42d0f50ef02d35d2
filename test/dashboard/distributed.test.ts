import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type EmbeddedClickHouse,
  startEmbeddedClickHouse,
} from "../../analytics/clickhouse/embedded-server.ts";
import { sha256Hex } from "../../analytics/reader/access.ts";
import { parseConfig } from "../../config/load.ts";
import { type OpenAIEmulator, startOpenAIEmulator } from "../emulators/openai.ts";
import { launchBrowser } from "../support/browser.ts";
import { tileValue } from "../support/dashboard.ts";
import { eventually } from "../support/eventually.ts";
import { masterKey, testKey, testSettings } from "../support/gateway.ts";
import { type GatewayProcess, spawnGateway } from "../support/processes.ts";

/**
 * The dashboard in the distributed shape: two ingress processes, a worker and a sink, each its own
 * OS process on Kafka and Redis, and a ClickHouse whose users live in a file (as a server's may),
 * with the reader's password given to the processes. A session made on one ingress is good on the
 * other, and a call made through either shows on Overview within 2 s.
 */
describe("the dashboard of a gateway in separate processes", () => {
  const readerPassword = "reader-password-0123456789";
  const workDir = mkdtempSync(join(tmpdir(), "gateway-dashboard-distributed-"));
  const processes: GatewayProcess[] = [];
  let emulator: OpenAIEmulator;
  let clickhouse: EmbeddedClickHouse;
  let browser: Browser;
  let ingresses: GatewayProcess[];

  beforeAll(async () => {
    emulator = await startOpenAIEmulator({ apiKey: "sk-emulated", record: false });
    const settings = testSettings("kafka", {
      log: { level: "info" },
      analytics: { sink: { maxWaitMs: 200 }, query: { password: readerPassword } },
      providers: [
        { name: "emulated", type: "openai", options: { baseUrl: emulator.url, apiKey: "sk-emulated" } },
      ],
      models: [{ name: "gpt-4o-mini", provider: "emulated" }],
    });
    const config = parseConfig(JSON.stringify(settings), "test", {});
    clickhouse = await startEmbeddedClickHouse({
      dataDir: join(workDir, "clickhouse"),
      reader: {
        database: config.clickhouse.database,
        options: config.analytics.query,
        passwordSha256: sha256Hex(readerPassword),
      },
    });
    const shared = {
      ...settings,
      clickhouse: {
        ...(settings.clickhouse as object),
        url: clickhouse.url,
        username: "default",
        password: "",
      },
    };
    // The sink first: it applies the migrations the others read through.
    processes.push(await spawnGateway(shared, "sink"));
    processes.push(await spawnGateway(shared, "worker"));
    ingresses = await Promise.all([spawnGateway(shared, "ingress"), spawnGateway(shared, "ingress")]);
    processes.push(...ingresses);
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    for (const process of processes) process.kill("SIGTERM");
    await Promise.all(processes.map((process) => process.exited));
    await clickhouse?.stop();
    await emulator?.close();
    rmSync(workDir, { recursive: true, force: true });
  });

  it("keeps one sign-in across ingresses, and shows a call through either within 2 s", async () => {
    const [first, second] = ingresses as [GatewayProcess, GatewayProcess];
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    await page.goto(`${first.url}/ui`);
    await page.getByLabel("Gateway key").fill(masterKey);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    // The other ingress, on another port, takes the same session (the cookie is per host, not port).
    await page.goto(`${second.url}/ui`);
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    await eventually(async () => expect(await tileValue(page, "Requests")).toBe("0"), 10_000);

    for (const [index, ingress] of [first, second].entries()) {
      await new OpenAI({
        baseURL: `${ingress.url}/v1`,
        apiKey: testKey,
        maxRetries: 0,
      }).chat.completions.create({
        model: "gpt-4o-mini",
        messages: [{ role: "user", content: `through ingress ${index}` }],
      });
      const answeredAt = Date.now();
      await eventually(async () => expect(await tileValue(page, "Requests")).toBe(String(index + 1)), 2000);
      expect(Date.now() - answeredAt).toBeLessThanOrEqual(2000);
    }
    await context.close();
  });
});
