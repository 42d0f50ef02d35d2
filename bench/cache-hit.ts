import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pool } from "undici";
import { startOpenAIEmulator } from "../test/emulators/openai.ts";
import { spawnGateway } from "../test/support/processes.ts";
import { ms, openLoop, summary } from "./stats.ts";

/**
 * The latency of a cache hit at the ingress: a gateway process on its embedded defaults (the
 * in-process cache) and one keeping answers in Redis (127.0.0.1:6379, as on every machine here),
 * each asked the same question over and over at a fixed rate after one miss filled the cache.
 * Latency is from each request's due time to its last byte, whole and streamed (what a client on
 * this machine sees, its own HTTP client included), and as the gateway itself measured it: the
 * `Server-Timing: answer;dur=` header, from the request's arrival to its answer being ready.
 * Run: `npm run bench:cache`; prints a markdown table (BENCHMARKS.md quotes it).
 */
const key = "bench-key-0123456789";
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379/0";
const emulator = await startOpenAIEmulator({ apiKey: "k", record: false });
const rows: string[] = [];
for (const store of ["in-process", "Redis"] as const) {
  const dataDir = mkdtempSync(join(tmpdir(), "cache-bench-"));
  const gateway = await spawnGateway(
    {
      server: { port: 0, host: "127.0.0.1" },
      auth: { keys: [key] },
      // Info: spawnGateway waits for the "gateway ready" line.
      log: { level: "info" },
      clickhouse: { dataDir },
      redis: store === "Redis" ? { url: redisUrl, keyPrefix: `cache-bench-${Date.now()}:` } : {},
      providers: [{ name: "p", type: "openai", options: { baseUrl: emulator.url, apiKey: "k" } }],
      models: [{ name: "cached", provider: "p", cache: { ttlSeconds: 600 } }],
    },
    "all",
  );
  const pool = new Pool(gateway.url, { connections: 64 });
  let atGateway: number[] = [];
  const call =
    (stream: boolean, expectHit = true) =>
    async (scheduledAt: number) => {
      const response = await pool.request({
        method: "POST",
        path: "/v1/chat/completions",
        headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
        body: JSON.stringify({
          model: "cached",
          stream,
          messages: [{ role: "user", content: "What is the capital of France?" }],
        }),
      });
      await response.body.text();
      if (response.statusCode !== 200 || (expectHit && response.headers["x-gateway-cache"] !== "hit"))
        throw new Error(`not a hit: ${response.statusCode} ${response.headers["x-gateway-cache"]}`);
      atGateway.push(Number(/dur=([\d.]+)/.exec(String(response.headers["server-timing"]))?.[1]));
      return performance.now() - scheduledAt;
    };
  try {
    await openLoop(1, 1_000, call(false, false)); // the miss that fills the cache
    await openLoop(200, 2_000, call(false)); // warm-up
    for (const rate of [200, 1000]) {
      for (const stream of [false, true]) {
        atGateway = [];
        const { latencies, errors } = await openLoop(rate, 5_000, call(stream));
        const stats = summary(latencies);
        const inside = summary(atGateway);
        rows.push(
          `| ${store} | ${rate} | ${stream ? "streamed" : "whole"} | ${ms(inside.p50)} | ${ms(inside.p99)} | ${ms(stats.p50)} | ${ms(stats.p90)} | ${ms(stats.p99)} | ${errors} |`,
        );
      }
    }
  } finally {
    await pool.close();
    gateway.kill("SIGTERM");
    await gateway.exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}
await emulator.close();
process.stdout.write(
  [
    "| cache | requests/s | answer | gateway p50 ms | gateway p99 ms | client p50 ms | client p90 ms | client p99 ms | errors |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ...rows,
    "",
  ].join("\n"),
);
