import { createHmac } from "node:crypto";
import type { Logger } from "../../runtime/logger.ts";
import type { BudgetAlert } from "../contracts.ts";

export interface AlertWebhook {
  url: string;
  /** Signs each body (governance.alertWebhookSecret), so the receiver can tell it came from us. */
  secret?: string;
}

/** Deliveries are tried this many times, a second apart and more: a receiver restarting still gets them. */
const attempts = 4;

/**
 * POSTs a budget alert as JSON. The body is signed like Stripe's and GitHub's webhooks:
 * `x-gateway-signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`, so a receiver can
 * check both origin and freshness. Never throws: an alert that cannot be delivered is logged
 * (it is in the audit log regardless).
 */
export async function postAlert(webhook: AlertWebhook, alert: BudgetAlert, log: Logger): Promise<void> {
  const body = JSON.stringify({
    type: "budget.soft_limit",
    scope: alert.scope,
    id: alert.id,
    period: alert.period,
    percent: alert.percent,
    spent_usd: alert.spentNanoUsd / 1e9,
    limit_usd: alert.limitNanoUsd / 1e9,
    at: new Date().toISOString(),
  });
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (webhook.secret) {
    const t = Math.floor(Date.now() / 1000);
    const v1 = createHmac("sha256", webhook.secret).update(`${t}.${body}`).digest("hex");
    headers["x-gateway-signature"] = `t=${t},v1=${v1}`;
  }
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const response = await fetch(webhook.url, {
        method: "POST",
        headers,
        body,
        signal: AbortSignal.timeout(5000),
      });
      if (response.ok) return;
      if (response.status < 500 && response.status !== 429) {
        log.warn(
          { status: response.status, scope: alert.scope, id: alert.id },
          "budget alert refused by the webhook",
        );
        return;
      }
    } catch {
      // unreachable or timed out: tried again below
    }
    if (attempt < attempts) await new Promise((resolve) => setTimeout(resolve, 1000 * 2 ** (attempt - 1)));
  }
  log.warn(
    { scope: alert.scope, id: alert.id, attempts },
    "budget alert could not be delivered to the webhook",
  );
}
