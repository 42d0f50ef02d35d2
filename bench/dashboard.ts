import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { dashboardQueries } from "../analytics/dashboard/index.ts";
import { startGateway } from "../app/gateway.ts";
import { parseConfig } from "../config/load.ts";
import { launchBrowser } from "../test/support/browser.ts";
import { ms, quantile } from "./stats.ts";

/**
 * The dashboard over a million requests: a gateway on its embedded defaults (the embedded
 * ClickHouse, as `npm start`), its `requests` and `attempts` filled with ROWS finished requests
 * spread over 30 days (5 % failed over, 3 % errors, 40 teams, 400 keys, 12 models), then
 *   - every dashboard query through GET /ui/api/queries/:name, as the reader user, RUNS times at the
 *     last 24 h and at 30 d: p50 and p95 of the answer's time at the client;
 *   - the Overview drawn from a cold browser (a new Chromium process each time): from navigation
 *     to its tiles showing the counts and its eight charts drawn.
 * Run: `npm run bench:dashboard` (ROWS=1000000 RUNS=20 by default; TIMELINE=1 prints when each of the
 * page's requests left and was answered); prints markdown for BENCHMARKS.md.
 */
const rows = Number(process.env.ROWS ?? 1_000_000);
const runs = Number(process.env.RUNS ?? 20);
const masterKey = "bench-master-key-0123456789";
const dataDir = mkdtempSync(join(tmpdir(), "dashboard-bench-"));
const config = parseConfig(
  JSON.stringify({
    server: { host: "127.0.0.1", port: 0 },
    auth: { masterKey },
    log: { level: "warn" },
    clickhouse: { dataDir },
    governance: { directory: join(dataDir, "governance") },
    batches: { directory: join(dataDir, "batches") },
  }),
  "bench",
  {},
);
const gateway = await startGateway(config, pino({ level: "warn" }));
const clickhouse = gateway.clickhouse?.client;
if (!clickhouse) throw new Error("the bench's gateway has no ClickHouse");

try {
  const filled = performance.now();
  await fill(rows);
  console.error(
    `filled ${rows.toLocaleString("en-US")} requests in ${((performance.now() - filled) / 1000).toFixed(1)} s`,
  );
  const auth = { authorization: `Bearer ${masterKey}` };
  const sample = (await (
    await fetch(`${gateway.url}/ui/api/queries/requests-page?limit=1`, { headers: auth })
  ).json()) as {
    rows: Array<{ request_id: string }>;
  };
  const requestId = sample.rows[0]?.request_id ?? "";
  const now = Date.now();
  const windows = { "24 h": now - 86_400_000, "30 d": now - 30 * 86_400_000 };
  const table = ["| query | range | p50 ms | p95 ms | rows |", "| --- | --- | ---: | ---: | ---: |"];
  for (const name of dashboardQueries.keys()) {
    for (const [label, from] of Object.entries(windows)) {
      const params = new URLSearchParams({
        from: String(from),
        to: String(now + 60_000),
        id: requestId,
        step: label === "24 h" ? "900" : "21600",
      });
      const times: number[] = [];
      let count = 0;
      for (let run = 0; run < runs + 2; run++) {
        const started = performance.now();
        const response = await fetch(`${gateway.url}/ui/api/queries/${name}?${params}`, { headers: auth });
        const body = (await response.json()) as { rows?: unknown[]; error?: { message: string } };
        if (!response.ok) throw new Error(`${name}: ${response.status} ${body.error?.message}`);
        // The first two runs warm ClickHouse's caches and the connection; they are not counted.
        if (run >= 2) times.push(performance.now() - started);
        count = body.rows?.length ?? 0;
      }
      table.push(
        `| ${name} | ${label} | ${ms(quantile(times, 0.5))} | ${ms(quantile(times, 0.95))} | ${count} |`,
      );
    }
  }
  console.log(`Dashboard queries over ${rows.toLocaleString("en-US")} requests, ${runs} runs each:\n`);
  console.log(table.join("\n"));
  console.log(
    `\nOverview drawn from a cold browser (a new Chromium each time), ms: ${(await overviewDraws(5)).map((t) => t.toFixed(0)).join(", ")}`,
  );
} finally {
  await gateway.close();
  rmSync(dataDir, { recursive: true, force: true });
}

/** Times from navigation to the Overview's counts and eight charts, each in a new browser process. */
async function overviewDraws(times: number): Promise<number[]> {
  const draws: number[] = [];
  for (let run = 0; run < times; run++) {
    const browser = await launchBrowser();
    try {
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      const signIn = await context.request.post(`${gateway.url}/ui/api/session`, {
        data: { key: masterKey },
      });
      if (!signIn.ok()) throw new Error(`sign-in: ${signIn.status()}`);
      const page = await context.newPage();
      const started = performance.now();
      const timeline: string[] = [];
      page.on("request", (request) =>
        timeline.push(
          `${(performance.now() - started).toFixed(0)} > ${request.url().replace(gateway.url, "").slice(0, 40)}`,
        ),
      );
      page.on("response", (response) =>
        timeline.push(
          `${(performance.now() - started).toFixed(0)} ${response.url().replace(gateway.url, "").slice(0, 50)}`,
        ),
      );
      await page.goto(`${gateway.url}/ui#/overview`);
      // Counts shown (the last 15 minutes hold requests) and every chart's canvas drawn.
      await page.locator(".tile-value").first().filter({ hasText: /[1-9]/ }).waitFor({ timeout: 30_000 });
      await page.locator(".chart canvas").nth(7).waitFor({ timeout: 30_000 });
      draws.push(performance.now() - started);
      if (process.env.TIMELINE)
        console.error(timeline.join("\n"), `\ndrawn ${(performance.now() - started).toFixed(0)}`);
    } finally {
      await browser.close();
    }
  }
  return draws;
}

/** A UUIDv7 of the time `at` (as the gateway's request ids are: ordered by time), in SQL. */
function uuidv7At(at: string): string {
  const ms = `leftPad(lower(hex(toUnixTimestamp64Milli(${at}))), 12, '0')`;
  return `toUUID(concat(substring(${ms}, 1, 8), '-', substring(${ms}, 9, 4), '-7', substring(lower(hex(rand(7))), 1, 3),
    '-8', substring(lower(hex(rand(8))), 1, 3), '-', substring(lower(hex(rand64(9))), 1, 12)))`;
}

/**
 * `count` finished requests over the last 30 days (denser in the last 15 minutes, so Overview's
 * default range has traffic), with one attempt each and a second for the 5 % that failed over.
 * Generated inside ClickHouse (INSERT … SELECT from numbers()), so the per-minute rollup's
 * materialized view fills as it does from the sink.
 */
async function fill(count: number): Promise<void> {
  const models =
    "['gpt-4o-mini','gpt-4o','claude-sonnet','claude-haiku','gemini-flash','gemini-pro','llama-70b','mistral-large','o3-mini','gpt-4.1','deepseek-v3','qwen-72b']";
  const chunk = 250_000;
  for (let start = 0; start < count; start += chunk) {
    const size = Math.min(chunk, count - start);
    await clickhouse?.command({
      query: `INSERT INTO requests (request_id, stage, ingress_id, received_at, first_token_at, finished_at, priority,
          inbound_api, stream, key_id, team, end_user, tags, model_requested, provider, provider_model, cache, outcome,
          status, error_code, input_tokens, output_tokens, cost, priced, cost_saved, request_bytes)
        SELECT
          ${uuidv7At("at")} AS id, 'finished', 'bench',
          now64(3) - toIntervalMillisecond(if(number % 10 = 0, rand(1) % 900000, rand(1) % 2592000000)) AS at,
          at + toIntervalMillisecond(20 + rand(2) % 400),
          at + toIntervalMillisecond(100 + rand(3) % 3000),
          ['interactive','default','batch'][1 + number % 3], 'openai_chat', number % 2 = 0,
          lower(hex(cityHash64(number % 400)))::String, concat('team-', toString(number % 40)),
          concat('user-', toString(number % 5000)), map('feature', ['chat','search','summary'][1 + number % 3]),
          ${models}[1 + number % 12] AS model, ['openai','anthropic','gemini'][1 + number % 3], model,
          ['', 'hit', 'miss'][1 + number % 3],
          if(number % 33 = 0, 'failed', 'completed'), if(number % 33 = 0, 502, 200),
          if(number % 33 = 0, 'upstream_error', ''),
          100 + rand(4) % 4000, 20 + rand(5) % 800,
          toDecimal64((100 + rand(4) % 4000) * 0.00000015 + (20 + rand(5) % 800) * 0.0000006, 9), true,
          toDecimal64(0, 9), 500 + rand(6) % 8000
        FROM numbers(${start}, ${size})`,
    });
  }
  await clickhouse?.command({
    query: `INSERT INTO attempts (request_id, attempt, worker_id, received_at, started_at, first_token_at, finished_at,
        priority, inbound_api, stream, key_id, end_user, model_requested, provider, provider_model, outcome,
        error_code, status, input_tokens, output_tokens, cached_input_tokens, cache_write_tokens, reasoning_tokens,
        usage_estimated, route, deployment)
      SELECT request_id, toString(n), 'bench-worker', received_at, received_at + toIntervalMillisecond(2),
        first_token_at, finished_at, priority, inbound_api, stream, key_id, end_user, model_requested, provider,
        provider_model, if(n = 0 AND calls = 2, 'failed', outcome), error_code, if(n = 0 AND calls = 2, 503, status),
        input_tokens, output_tokens, 0, 0, 0, false, model_requested, concat(provider, '/', provider_model)
      FROM (
        SELECT *, if(cityHash64(request_id) % 20 = 0, 2, 1) AS calls FROM requests
        WHERE ingress_id = 'bench'
      ) ARRAY JOIN range(calls) AS n`,
  });
}
