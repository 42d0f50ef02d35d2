import { usdOfNano } from "../config/pricing/cost.ts";
import type { AttemptEvent } from "../schemas/attempt-event.ts";
import type { AuditEvent } from "../schemas/audit-event.ts";
import { snakeCaseUsage, type Usage, zeroUsage } from "../schemas/reply-event.ts";
import type { RequestEvent } from "../schemas/request-event.ts";

/** An attempt event as its `attempts` row; `source_*` say where on the bus it came from. */
export function attemptRow(event: AttemptEvent, sourcePartition: number, sourceOffset: number) {
  return {
    request_id: event.requestId,
    attempt: event.attempt,
    worker_id: event.workerId,
    received_at: clickhouseTime(event.receivedAtMs),
    started_at: clickhouseTime(event.startedAtMs),
    first_token_at: event.firstTokenAtMs === null ? null : clickhouseTime(event.firstTokenAtMs),
    finished_at: clickhouseTime(event.finishedAtMs),
    priority: event.priority,
    inbound_api: event.inboundApi,
    stream: event.stream,
    key_id: event.keyId,
    end_user: event.user ?? "",
    batch_id: event.batchId ?? "",
    tags: event.tags,
    model_requested: event.modelRequested,
    route: event.route,
    deployment: event.deployment,
    cache: event.cache,
    provider: event.provider,
    provider_model: event.providerModel,
    outcome: event.outcome,
    error_code: event.errorCode ?? "",
    status: event.status,
    ...spendColumns(event.usage, event),
    usage_estimated: event.usageEstimated,
    source_partition: sourcePartition,
    source_offset: sourceOffset,
  };
}

/** A request event as its `requests` row (a `finished` row replaces the `received` one). */
export function requestRow(event: RequestEvent, sourcePartition: number, sourceOffset: number) {
  return {
    request_id: event.requestId,
    stage: event.stage,
    ingress_id: event.ingressId,
    received_at: clickhouseTime(event.receivedAtMs),
    first_token_at: event.firstTokenAtMs === null ? null : clickhouseTime(event.firstTokenAtMs),
    finished_at: event.finishedAtMs === null ? null : clickhouseTime(event.finishedAtMs),
    priority: event.priority,
    inbound_api: event.inboundApi,
    stream: event.stream,
    key_id: event.keyId,
    team: event.team ?? "",
    end_user: event.user ?? "",
    batch_id: event.batchId ?? "",
    tags: event.tags,
    model_requested: event.modelRequested,
    provider: event.provider,
    provider_model: event.providerModel,
    cache: event.cache,
    outcome: event.outcome,
    status: event.status,
    error_code: event.errorCode ?? "",
    ...spendColumns(event.usage ?? zeroUsage, event),
    request_bytes: event.requestBytes,
    response_bytes: event.responseBytes,
    prompt: event.prompt ?? "",
    completion: event.completion ?? "",
    source_partition: sourcePartition,
    source_offset: sourceOffset,
  };
}

/** The token and cost columns of both tables. */
function spendColumns(usage: Usage, cost: Pick<AttemptEvent, "costNanoUsd" | "priced" | "costSavedNanoUsd">) {
  return {
    ...snakeCaseUsage(usage),
    cost: usdOfNano(cost.costNanoUsd),
    priced: cost.priced,
    cost_saved: usdOfNano(cost.costSavedNanoUsd),
  };
}

/** DateTime64(3) in the form ClickHouse parses without settings: `2026-11-28 10:00:00.123`. */
function clickhouseTime(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").replace("Z", "");
}

/** An audit event as its `audit_log` row. */
export function auditRow(event: AuditEvent, sourcePartition: number, sourceOffset: number) {
  return {
    at: clickhouseTime(event.atMs),
    event_id: event.eventId,
    actor_kind: event.actor.kind,
    actor_key_id: event.actor.keyId ?? "",
    actor_team: event.actor.team ?? "",
    action: event.action,
    target: event.target,
    outcome: event.outcome,
    reason: event.reason,
    source_ip: event.sourceIp,
    user_agent: event.userAgent,
    request_id: event.requestId ?? "",
    details: event.details,
    source_partition: sourcePartition,
    source_offset: sourceOffset,
  };
}
