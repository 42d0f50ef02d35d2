import type { FastifyPluginAsync } from "fastify";
import { withTimeout } from "../../runtime/with-timeout.ts";

export interface DependencyCheck {
  readonly name: string;
  /** Resolves when the dependency answers; rejects with the reason otherwise. */
  check(): Promise<void>;
}

export interface HealthOptions {
  checks: readonly DependencyCheck[];
  /** False once shutdown has begun: load balancers stop sending new work. */
  isAcceptingWork(): boolean;
}

const checkTimeoutMs = 2_000;

/** `/healthz` says the process is alive; `/readyz` says it can serve, dependency by dependency. */
export const healthRoutes: FastifyPluginAsync<HealthOptions> = async (app, options) => {
  app.get("/healthz", async () => ({ status: "ok" }));

  app.get("/readyz", async (_request, reply) => {
    const results = await Promise.all(
      options.checks.map(async ({ name, check }) => {
        try {
          await withTimeout(check(), checkTimeoutMs);
          return [name, "ok"] as const;
        } catch (error) {
          return [name, (error as Error).message || "failed"] as const;
        }
      }),
    );
    const ready = options.isAcceptingWork() && results.every(([, status]) => status === "ok");
    reply.code(ready ? 200 : 503);
    return {
      status: ready ? "ready" : options.isAcceptingWork() ? "unavailable" : "draining",
      checks: Object.fromEntries(results),
    };
  });
};
