import type { FastifyPluginAsync } from "fastify";
import type { AnalyticsAccess } from "../../../analytics/reader/run.ts";
import type { Keyring } from "../../../governance/keys/keyring.ts";
import { answerErrorsIn } from "../../errors.ts";
import type { SessionSeal } from "../../session.ts";
import { dashboardAssets } from "./assets.ts";
import { type DashboardBudgetOptions, dashboardBudgetRoutes } from "./budgets.ts";
import { type DeploymentsOptions, deploymentRoutes } from "./deployments.ts";
import { dashboardQueryRoutes } from "./queries.ts";
import { dashboardSessionRoutes } from "./session.ts";

export interface DashboardOptions {
  keyring: Keyring;
  sessions: SessionSeal;
  sessionTtlMs: number;
  analytics: AnalyticsAccess | undefined;
  /** The routes and the workers' shared breakers and quotas, for the Providers view. */
  deployments: DeploymentsOptions;
  /** Teams, keys and the budget ledger, for the budgets the Spend view shows. */
  budgets: DashboardBudgetOptions;
}

/**
 * The web dashboard at /ui (docs/dashboard.md): its page and code, sign-in, the queries its
 * views draw from, and the budgets (read-only; a team's session sees its own). What it changes
 * (keys, teams, batches, the cache) goes through the admin API, which takes the same session.
 */
export const dashboardRoutes: FastifyPluginAsync<DashboardOptions> = async (app, options) => {
  app.setErrorHandler(answerErrorsIn("openai"));
  await app.register(dashboardAssets);
  await app.register(dashboardSessionRoutes, {
    keyring: options.keyring,
    sessions: options.sessions,
    ttlMs: options.sessionTtlMs,
  });
  await app.register(dashboardQueryRoutes, { access: options.analytics });
  await app.register(deploymentRoutes, options.deployments);
  await app.register(dashboardBudgetRoutes, options.budgets);
};
