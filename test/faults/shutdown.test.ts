import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { startLocalKafka } from "../../local-services/kafka.ts";
import type { RunningService } from "../services/endpoints.ts";
import { eventually } from "../support/eventually.ts";
import { testKey, testSettings } from "../support/gateway.ts";
import { type GatewayProcess, spawnGateway } from "../support/processes.ts";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.ts";

const graceMs = 2000;
/** The documented bound: the grace period, then 5 s for the rest, plus half a second a part and the process's own exit. */
const boundMs = graceMs + 5000 + 10 * 500 + 3000;

/**
 * SIGTERM ends every role in bounded time whatever its services do: a broker that is gone, Redis
 * and ClickHouse that stopped answering. What could not be done is logged, part by part.
 */
describe("shutdown while services are down", () => {
  const workDir = mkdtempSync(join(tmpdir(), "gateway-shutdown-"));
  let kafka: RunningService<{ brokers: string[] }>;

  /** A broker of this file's own, to be stopped: a new one for each test. */
  async function startBroker(name: string) {
    mkdirSync(join(workDir, name));
    kafka = await startLocalKafka(join(workDir, name));
  }

  afterAll(async () => {
    await kafka?.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  /** Sends SIGTERM and returns how long the process took to exit. */
  async function terminate(process: GatewayProcess): Promise<number> {
    const started = Date.now();
    process.kill("SIGTERM");
    const exited = await Promise.race([
      process.exited,
      new Promise((resolve) => setTimeout(resolve, 60_000, "hung")),
    ]);
    if (exited === "hung") process.kill("SIGKILL");
    expect(exited).not.toBe("hung");
    return Date.now() - started;
  }

  const gaveUp = (process: GatewayProcess) =>
    process.lines
      .filter((line) => /did not stop in time|failed to stop/.test(line.msg))
      .map((line) => line.part);

  /** Starts the three roles and puts work in flight (and finished work not yet committed). */
  async function busyRoles(overrides: Record<string, unknown>) {
    const settings = testSettings("kafka", {
      log: { level: "info" },
      server: { shutdownGraceMs: graceMs },
      kafka: { brokers: kafka.endpoint.brokers },
      ...overrides,
    });
    const roles = await Promise.all(
      (["worker", "ingress", "sink"] as const).map((role) => spawnGateway(settings, role)),
    );
    const [worker, ingress] = roles as [GatewayProcess, GatewayProcess, GatewayProcess];
    const calls = Array.from({ length: 20 }, (_, index) =>
      fetch(`${ingress.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${testKey}`, "content-type": "application/json" },
        body: JSON.stringify({
          model: "mock",
          messages: [
            {
              role: "user",
              content: `call ${index} [mock:tokens=${index < 10 ? 2 : 200}] [mock:delay_ms=50]`,
            },
          ],
        }),
      }).then((response) => response.status),
    );
    await eventually(() =>
      expect(worker.lines.some((line) => line.msg === "worker joined the consumer group")).toBe(true),
    );
    await new Promise((resolve) => setTimeout(resolve, 1000));
    return { roles, worker, calls };
  }

  /** Lets the roles' clients notice a service is gone and start retrying, then stops them all. */
  async function terminateAll(roles: GatewayProcess[]) {
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const durations = await Promise.all(roles.map(terminate));
    for (const duration of durations) expect(duration).toBeLessThan(boundMs);
  }

  it.each(["kafkajs", "platformatic"] as const)(
    "stops every role within its bound when the broker is gone (kafka.client: %s)",
    async (client) => {
      await startBroker(`gone-${client}`);
      const { roles, worker, calls } = await busyRoles({
        kafka: { brokers: kafka.endpoint.brokers, client },
      });
      await kafka.stop();
      await terminateAll(roles);
      // The worker could not commit what it finished: it says so.
      expect(gaveUp(worker)).toContain("worker");
      await Promise.allSettled(calls);
    },
    180_000,
  );

  it("stops every role within its bound when Redis and ClickHouse stop answering", async () => {
    await startBroker("stays");
    const services = inject("services");
    const redis: TcpProxy = await startTcpProxy(new URL(services.redis.url));
    const clickhouse: TcpProxy = await startTcpProxy(new URL(services.clickhouse.url));
    try {
      const { roles, calls } = await busyRoles({
        redis: { url: redis.url },
        clickhouse: { url: clickhouse.url },
      });
      redis.cut();
      clickhouse.cut();
      await terminateAll(roles);
      await Promise.allSettled(calls);
    } finally {
      await Promise.all([redis.close(), clickhouse.close()]);
    }
  }, 180_000);
});
