import { describe, expect, it } from "vitest";
import { createRouteTable } from "../../config/routes.ts";
import { LatencyTracker } from "../../workers/routing/latency.ts";
import { planCandidates } from "../../workers/routing/plan.ts";
import { RetryBudget } from "../../workers/routing/retry-budget.ts";

const deployment = (provider: string, extra: Record<string, unknown> = {}) => ({
  provider,
  model: "m",
  weight: 1,
  price: { input: 0, output: 0 },
  ...extra,
});

function routes(strategy: "weighted" | "priority" | "latency" | "cost", deployments: unknown[]) {
  // Route entries as the config schema completes them.
  const entry = (fields: Record<string, unknown>) =>
    ({ fallbacks: [], cache: { ttlSeconds: 0 }, promptCacheAffinity: true, ...fields }) as never;
  return createRouteTable([
    entry({ name: "main", strategy, deployments, fallbacks: ["backup", "main-alias"] }),
    entry({
      name: "backup",
      strategy: "priority",
      deployments: [deployment("c"), deployment("a")],
      fallbacks: ["main"],
    }),
    entry({ name: "main-alias", strategy: "priority", provider: "a", model: "m" }),
  ]);
}

const facts = { keyName: "k", tags: {}, promptTokens: 1000, tools: false };

const plan = (table: ReturnType<typeof routes>, latency = new LatencyTracker(), random = Math.random) =>
  planCandidates(table.resolve("main") as never, table, { facts, outputTokens: 100, latency, random }).map(
    ({ route, deployment }) => `${route.name}:${deployment.name}`,
  );

describe("route plans", () => {
  it("try the route's deployments, then each fallback route's, every deployment once, without looping", () => {
    expect(plan(routes("priority", [deployment("a"), deployment("b")]))).toEqual([
      "main:a/m",
      "main:b/m",
      "backup:c/m",
    ]);
  });

  it("order by price for `cost`: input and output tokens of the request at each deployment's price", () => {
    const table = routes("cost", [
      deployment("dear", { price: { input: 5, output: 15 } }),
      deployment("cheap-in", { price: { input: 0.1, output: 20 } }),
      deployment("cheap-out", { price: { input: 1, output: 1 } }),
    ]);
    // 1000 input and 100 output tokens: cheap-in 2100, cheap-out 1100, dear 6500.
    expect(plan(table).slice(0, 3)).toEqual(["main:cheap-out/m", "main:cheap-in/m", "main:dear/m"]);
  });

  it("order by measured time to first token for `latency`, unmeasured deployments first", () => {
    const latency = new LatencyTracker();
    latency.observe("slow/m", 900);
    latency.observe("fast/m", 100);
    latency.observe("fast/m", 300);
    const table = routes("latency", [deployment("slow"), deployment("fast"), deployment("new")]);
    expect(plan(table, latency).slice(0, 3)).toEqual(["main:new/m", "main:fast/m", "main:slow/m"]);
  });

  it("lead with each deployment in proportion to its weight for `weighted`", () => {
    const table = routes("weighted", [deployment("a", { weight: 3 }), deployment("b", { weight: 1 })]);
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const leaders = Array.from({ length: 4000 }, () => plan(table, new LatencyTracker(), random)[0]);
    const share = leaders.filter((leader) => leader === "main:a/m").length / leaders.length;
    expect(share).toBeGreaterThan(0.72);
    expect(share).toBeLessThan(0.78);
  });
});

describe("the retry budget", () => {
  it("allows retries of at most the ratio of first calls, beyond a small allowance per second", () => {
    let now = 0;
    const budget = new RetryBudget(0.2, 2, () => now);
    for (let call = 0; call < 100; call++) budget.earn();
    let retries = 0;
    while (budget.trySpend()) retries++;
    // 20 earned, and the 2 of this second's allowance.
    expect(retries).toBe(22);
    now += 500;
    expect(budget.trySpend()).toBe(true);
    expect(budget.trySpend()).toBe(false);
  });
});
