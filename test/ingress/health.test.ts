import { pino } from "pino";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { buildIngress } from "../../ingress/app.ts";

const server = {
  host: "127.0.0.1",
  port: 0,
  bodyLimitBytes: 1024 * 1024,
  bodyDepthLimit: 128,
  shutdownGraceMs: 1000,
};
const log = pino({ level: "silent" });
const metrics = new Registry();

describe("health endpoints", () => {
  it("reports each dependency, and not ready while one fails", async () => {
    let redisUp = true;
    const ingress = await buildIngress({
      config: server,
      log,
      metrics,
      checks: [
        { name: "clickhouse", check: async () => {} },
        {
          name: "redis",
          check: async () => {
            if (!redisUp) throw new Error("connection refused");
          },
        },
      ],
    });
    expect((await ingress.app.inject("/healthz")).json()).toEqual({ status: "ok" });

    const ready = await ingress.app.inject("/readyz");
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: "ready", checks: { clickhouse: "ok", redis: "ok" } });

    redisUp = false;
    const degraded = await ingress.app.inject("/readyz");
    expect(degraded.statusCode).toBe(503);
    expect(degraded.json()).toEqual({
      status: "unavailable",
      checks: { clickhouse: "ok", redis: "connection refused" },
    });
    await ingress.app.close();
  });

  it("stops being ready once draining, while staying alive", async () => {
    const ingress = await buildIngress({ config: server, log, metrics, checks: [] });
    ingress.stopAcceptingWork();
    const ready = await ingress.app.inject("/readyz");
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({ status: "draining" });
    expect((await ingress.app.inject("/healthz")).statusCode).toBe(200);
    await ingress.app.close();
  });

  it("times out a dependency that does not answer", async () => {
    const ingress = await buildIngress({
      config: server,
      log,
      metrics,
      checks: [{ name: "kafka", check: () => new Promise(() => {}) }],
    });
    const ready = await ingress.app.inject("/readyz");
    expect(ready.statusCode).toBe(503);
    expect(ready.json().checks.kafka).toMatch(/no answer within/);
    await ingress.app.close();
  });
});
