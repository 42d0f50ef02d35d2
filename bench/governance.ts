import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pool } from "undici";
import { piiKinds } from "../config/routes-schema.ts";
import { applyGuardrails } from "../governance/guardrails/index.ts";
import { createKeyring } from "../governance/keys/keyring.ts";
import type { ChatRequest } from "../schemas/request-envelope.ts";
import { benchKey, benchMasterKey, startLocalGateway } from "./local-gateway.ts";
import { ms, summary } from "./stats.ts";

/**
 * What governance adds to a call. Part 1: one gateway in this process (in-process bus, a mock
 * provider that answers at once), called one request at a time — the same chat request with a
 * key from the configuration (no policy), a virtual key of a team without limits (key lookup,
 * access checks), and a virtual key with budgets and rate limits on key and team (holds on five
 * counters, four meters); counters in memory, then in Redis (127.0.0.1:6379). Part 2: the route
 * guardrails on prose with personal data, and on input built to make regular expressions
 * backtrack. Part 3: the time to refuse wrong keys, near and far from a valid one. Run:
 * `npm run bench:governance`; prints markdown tables (BENCHMARKS.md quotes them).
 */
const requests = Number(process.env.BENCH_REQUESTS ?? 3000);
const warmup = 300;
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379/0";

console.log(`| counters | key | p50 ms | p90 ms | p99 ms | added p50 ms | added p99 ms |`);
console.log(`| --- | --- | --- | --- | --- | --- | --- |`);
for (const store of ["memory", "Redis"] as const) {
  const local = await startLocalGateway({
    providers: [{ name: "mock", type: "mock", options: { tokensPerSecond: 0 } }],
    models: [{ name: "mock", provider: "mock" }],
    pricing: { prices: { mock: { mock: { input: 0.1, output: 0.4 } } } },
    governance: { directory: mkdtempSync(join(tmpdir(), "bench-governance-")) },
    ...(store === "Redis" && { redis: { url: redisUrl, keyPrefix: `bench-${Date.now()}:` } }),
  });
  const pool = new Pool(local.gateway.url, { connections: 1 });
  const call = async (method: string, path: string, key: string, body: unknown) => {
    const response = await pool.request({
      method: method as "POST",
      path,
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const text = await response.body.text();
    if (response.statusCode >= 300) throw new Error(`${path}: ${response.statusCode} ${text}`);
    return JSON.parse(text) as { key: string };
  };
  await call("POST", "/admin/teams", benchMasterKey, { id: "open" });
  await call("POST", "/admin/teams", benchMasterKey, {
    id: "governed",
    budget: { dailyUsd: 1e6, monthlyUsd: 1e6 },
    rateLimits: { requestsPerMinute: 1e7, tokensPerMinute: 1e9 },
  });
  const keys = {
    configured: benchKey,
    "virtual, no limits": (await call("POST", "/admin/keys", benchMasterKey, { team: "open" })).key,
    "virtual, budgets + limits": (
      await call("POST", "/admin/keys", benchMasterKey, {
        team: "governed",
        budget: { dailyUsd: 1e6, totalUsd: 1e6 },
        rateLimits: { requestsPerMinute: 1e7, tokensPerMinute: 1e9 },
        limits: { maxTokens: 4096, maxConcurrentStreams: 100 },
      })
    ).key,
  };
  const body = { model: "mock", max_tokens: 64, messages: [{ role: "user", content: "How are you today?" }] };
  // Rounds alternate the keys, so that drift (JIT, GC, the machine) falls on all of them alike.
  const latencies = new Map<string, number[]>(Object.keys(keys).map((name) => [name, []]));
  for (let index = 0; index < warmup + requests; index++) {
    for (const [name, key] of Object.entries(keys)) {
      const started = performance.now();
      await call("POST", "/v1/chat/completions", key, body);
      if (index >= warmup) latencies.get(name)?.push(performance.now() - started);
    }
  }
  const base = summary(latencies.get("configured") ?? []);
  for (const [name, samples] of latencies) {
    const stats = summary(samples);
    console.log(
      `| ${store} | ${name} | ${ms(stats.p50)} | ${ms(stats.p90)} | ${ms(stats.p99)} | ${ms(stats.p50 - base.p50)} | ${ms(stats.p99 - base.p99)} |`,
    );
  }
  await pool.close();
  await local.close();
}

const block = [
  "Hi, I'm writing about order ORD-2024-000123 placed on 2024-01-15; version 1.24.3 crashed after",
  "128000 tokens. Contact me at jane.doe@example.com or +44 20 7946 0958. My card 4111 1111 1111 1111",
  "was charged twice. The config had api_key = sk-proj-Ab3dE5gH7jK9mN1pQ3rS5tU7vW9xY1z and request",
  "id 550e8400-e29b-41d4-a716-446655440000. Thanks, the team at Example Corp (support@example.org).\n",
].join("\n");
const prose = (bytes: number) => block.repeat(Math.ceil(bytes / block.length)).slice(0, bytes);
const hostile = (bytes: number) =>
  ["a".repeat(bytes / 4), "a.".repeat(bytes / 8), "1 ".repeat(bytes / 8), "+1 ".repeat(bytes / 12)].join("@");
const guardrails = {
  redact: [...piiKinds],
  deny: [
    "\\bforbidden topic\\b",
    "jailbreak",
    "ignore (all )?previous instructions",
    "\\bdan mode\\b",
    "exfiltrat",
  ].map((pattern) => new RegExp(pattern, "i")),
};
const chatOf = (text: string) =>
  ({
    model: "m",
    messages: [{ role: "user", content: [{ kind: "text", text, argumentsJson: null }] }],
  }) as unknown as ChatRequest;

console.log("\n| guardrails input | size | median ms | per KB µs |");
console.log("| --- | --- | --- | --- |");
for (const [name, make] of [
  ["prose with personal data", prose],
  ["built to backtrack", hostile],
] as const) {
  for (const bytes of [4096, 102_400]) {
    const chat = chatOf(make(bytes));
    const runs = Math.max(20, Math.ceil(4_000_000 / bytes));
    const times: number[] = [];
    for (let run = 0; run < runs + 10; run++) {
      const started = performance.now();
      applyGuardrails(guardrails, chat);
      if (run >= 10) times.push(performance.now() - started);
    }
    const median = summary(times).p50;
    console.log(
      `| ${name} | ${bytes / 1024} KB | ${ms(median)} | ${((median * 1000) / (bytes / 1024)).toFixed(1)} |`,
    );
  }
}

// Part 3: what an attacker could time. A wrong key is refused after the same work whether it
// shares all but its last character with a valid key, only its last one, or nothing: the key is
// hashed and the digest looked up; no comparison ever runs along the key itself.
const valid = `gwk-${"a".repeat(43)}`;
const keyring = createKeyring({ keys: [{ key: valid }] });
const wrongKeys: Record<string, string> = {
  "all but the last character right": `${valid.slice(0, -1)}b`,
  "only the last character right": `b${valid.slice(1)}`,
  "nothing right": `gwk-${"z".repeat(43)}`,
};
// Rounds in a random order each, the first five only warming up: a fixed order measures the
// JIT and the garbage collector instead (it showed 2x between the first and the last kind).
const rounds = 30;
const tries = 20_000;
const totalNs = new Map<string, number>();
for (let round = 0; round < rounds; round++) {
  for (const name of Object.keys(wrongKeys).sort(() => Math.random() - 0.5)) {
    const key = wrongKeys[name];
    const started = process.hrtime.bigint();
    for (let index = 0; index < tries; index++) {
      try {
        keyring.authenticate(key);
      } catch {
        // refused, as expected
      }
    }
    if (round >= 5) totalNs.set(name, (totalNs.get(name) ?? 0) + Number(process.hrtime.bigint() - started));
  }
}
console.log("\n| wrong key | mean ns per refusal |");
console.log("| --- | --- |");
for (const [name, total] of totalNs)
  console.log(`| ${name} | ${(total / ((rounds - 5) * tries)).toFixed(0)} |`);
