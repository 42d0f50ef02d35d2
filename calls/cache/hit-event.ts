import type { AttemptEventInput } from "../../schemas/attempt-event.ts";
import { type Usage, zeroUsage } from "../../schemas/reply-event.ts";
import type { RequestEnvelopeInput } from "../../schemas/request-envelope.ts";
import type { CachedAnswer } from "./store.ts";

/** How a request was answered from a kept answer. */
export type KeptStatus = "hit" | "semantic-hit" | "coalesced";

/**
 * The analytics event of a request answered from the cache: no provider, no worker, and the
 * usage and cost of the answer it replayed: the tokens and money the hit saved.
 */
export function cacheHitEvent(
  envelope: Pick<RequestEnvelopeInput, "id" | "priority" | "inboundApi" | "stream" | "caller">,
  model: string,
  answer: CachedAnswer,
  receivedAtMs: number,
  ingressId: string,
  status: KeptStatus,
): AttemptEventInput {
  const now = Date.now();
  const used = answer.events.findLast((event) => event.kind === "usage");
  return {
    requestId: envelope.id,
    attempt: "cache",
    workerId: ingressId,
    receivedAtMs,
    startedAtMs: receivedAtMs,
    firstTokenAtMs: now,
    finishedAtMs: now,
    priority: envelope.priority,
    inboundApi: envelope.inboundApi,
    stream: envelope.stream,
    keyId: envelope.caller.keyId,
    user: envelope.caller.user ?? null,
    tags: envelope.caller.tags ?? {},
    modelRequested: model,
    route: model,
    cache: status,
    outcome: "completed",
    errorCode: null,
    status: 200,
    usage: (used?.usage ?? zeroUsage) as Usage,
    usageEstimated: false,
    // Nothing is paid for a hit; what it saved is what the kept answer cost to make.
    costNanoUsd: 0,
    priced: used?.costNanoUsd != null,
    costSavedNanoUsd: used?.costNanoUsd ?? 0,
  };
}
