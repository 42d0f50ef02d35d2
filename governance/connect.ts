import type { EventPublisher } from "../bus/messaging.ts";
import type { RouteTable } from "../config/routes.ts";
import type { GatewayConfig } from "../config/schema.ts";
import type { Logger } from "../runtime/logger.ts";
import { openRedis } from "../runtime/redis.ts";
import type { Governance } from "./admission.ts";
import { AuditTrail } from "./audit.ts";
import { postAlert } from "./budgets/alerts.ts";
import { MemoryLedger } from "./budgets/memory-ledger.ts";
import { RedisLedger } from "./budgets/redis-ledger.ts";
import type { KeyStore } from "./contracts.ts";
import { KeyAdmin } from "./keys/admin.ts";
import { connectKeyStore } from "./keys/connect.ts";
import { fallbackLimiter, fallbackStreamGate } from "./rate-limits/fallback.ts";
import { MemoryLimiter } from "./rate-limits/memory-limiter.ts";
import { RedisLimiter } from "./rate-limits/redis-limiter.ts";
import { MemoryStreamGate, RedisStreamGate } from "./rate-limits/stream-gate.ts";

export interface ConnectedGovernance {
  keys: KeyStore;
  admin: KeyAdmin;
  audit: AuditTrail;
  policy: Governance;
  close(): Promise<void>;
}

const redisTimeoutMs = 1000;

/** A budget hold or stream slot outlives a dead holder by this much past the request timeout. */
const holdMarginMs = 30_000;

/**
 * Keys and teams (the Kafka log, else a local file), their counters (Redis when `redis.url` is
 * set, else this process's memory) and the audit trail on the bus. Budgets on Redis fail closed
 * while it is down; rate limits fall back to this process's own counts (docs/governance.md).
 */
export async function connectGovernance(
  config: GatewayConfig,
  routes: RouteTable,
  events: EventPublisher,
  log: Logger,
): Promise<ConnectedGovernance> {
  const governanceLog = log.child({ component: "governance" });
  const keys = await connectKeyStore(config, log);
  // Every call waits on these counters: one that Redis does not answer fails within a second
  // (budgets then refuse, limits count locally) instead of holding the request.
  const redis = config.redis.url ? openRedis(config.redis, false, redisTimeoutMs) : undefined;
  const settings = config.governance;
  const audit = new AuditTrail((event) => events.publishAudit(event), governanceLog);
  const webhook = settings.alertWebhookUrl
    ? { url: settings.alertWebhookUrl, secret: settings.alertWebhookSecret || undefined }
    : undefined;
  const policy: Governance = {
    ledger: redis
      ? new RedisLedger(redis, settings.softLimitPercent)
      : new MemoryLedger(settings.softLimitPercent),
    limiter: redis
      ? fallbackLimiter(new RedisLimiter(redis), new MemoryLimiter(), governanceLog)
      : new MemoryLimiter(),
    streams: redis
      ? fallbackStreamGate(new RedisStreamGate(redis), new MemoryStreamGate(), governanceLog)
      : new MemoryStreamGate(),
    routes,
    settings,
    holdMs: config.ingress.requestTimeoutMs + holdMarginMs,
    refused: (caller, requestId, action, reason) => audit.refused(caller, requestId, action, reason),
    redacted: (caller, requestId, counts) =>
      audit.guardrail(
        caller,
        requestId,
        "guardrail.redact",
        Object.fromEntries(Object.entries(counts).map(([kind, count]) => [kind, String(count)])),
      ),
    alerted(caller, alerts) {
      audit.alerted(caller, alerts);
      if (webhook) for (const alert of alerts) void postAlert(webhook, alert, governanceLog);
    },
  };
  return {
    keys,
    admin: new KeyAdmin(keys),
    audit,
    policy,
    async close() {
      redis?.disconnect();
      await keys.close();
    },
  };
}
