import type { FastifyRequest } from "fastify";
import { uuidv7 } from "../runtime/ids.ts";
import type { Logger } from "../runtime/logger.ts";
import type { AuditEventInput } from "../schemas/audit-event.ts";
import type { BudgetAlert } from "./contracts.ts";
import type { Caller } from "./keys/keyring.ts";

/**
 * The audit log: every admin request and every policy decision that refused or changed a call,
 * as AuditEvents on the bus, which the sink lands in ClickHouse's `audit_log`. Never blocks the
 * request it records; an event that cannot be published is logged with what it was about.
 */
export class AuditTrail {
  constructor(
    private readonly publish: (event: AuditEventInput) => Promise<void>,
    private readonly log: Logger,
  ) {}

  /** An admin request as it ended: refused (not an admin: 401/403), failed, or done. */
  adminRequest(request: FastifyRequest, status: number): void {
    const caller = request.caller as Caller | undefined;
    this.record({
      actor: actorOf(caller),
      action: request.audit?.action ?? `${request.method} ${request.routeOptions.url ?? "(no route)"}`,
      target: request.audit?.target ?? (request.params as { id?: string } | undefined)?.id ?? "",
      outcome: status < 400 ? "allowed" : status === 401 || status === 403 ? "denied" : "failed",
      reason: status < 400 ? "" : `HTTP ${status}`,
      ...originOf(request),
    });
  }

  /** A call refused by policy (access, limits, budget): who asked for what, and why not. */
  refused(caller: Caller, requestId: string, action: string, reason: string): void {
    this.record({ actor: actorOf(caller), action, target: requestId, outcome: "denied", reason, requestId });
  }

  /** What a guardrail did to a call (redactions counted by kind; never the text). */
  guardrail(caller: Caller, requestId: string, action: string, details: Record<string, string>): void {
    this.record({
      actor: actorOf(caller),
      action,
      target: requestId,
      outcome: "allowed",
      requestId,
      details,
    });
  }

  /** Soft budget limits crossed. */
  alerted(caller: Caller, alerts: BudgetAlert[]): void {
    for (const alert of alerts)
      this.record({
        actor: { kind: "system", keyId: null, team: null },
        action: "budget.alert",
        target: `${alert.scope}:${alert.id}`,
        outcome: "allowed",
        reason: `${alert.period} spend reached ${alert.percent}% of its budget`,
        details: {
          period: alert.period,
          spent_usd: (alert.spentNanoUsd / 1e9).toFixed(9),
          limit_usd: (alert.limitNanoUsd / 1e9).toFixed(9),
          by_key: caller.keyId,
        },
      });
  }

  private record(entry: Omit<AuditEventInput, "atMs" | "eventId">): void {
    const event = { atMs: Date.now(), eventId: uuidv7(), ...entry };
    this.publish(event).catch((error: Error) =>
      this.log.error({ err: error, action: event.action, target: event.target }, "audit event not published"),
    );
  }
}

function actorOf(caller: Caller | undefined): AuditEventInput["actor"] {
  if (!caller) return { kind: "key", keyId: null, team: null };
  return { kind: caller.admin ? "master" : "key", keyId: caller.keyId, team: caller.team ?? null };
}

/** Where a request came from: the socket's address (X-Forwarded-For is not trusted) and user agent. */
function originOf(request: FastifyRequest): Pick<AuditEventInput, "sourceIp" | "userAgent"> {
  const agent = request.headers["user-agent"];
  return { sourceIp: request.ip, userAgent: typeof agent === "string" ? agent.slice(0, 256) : "" };
}
