import type { CallTrace } from "../bus/coordination.ts";
import type { Route } from "../config/routes.ts";
import { GatewayError } from "../schemas/errors.ts";
import type { RequestEnvelope } from "../schemas/request-envelope.ts";
import { estimatedPromptTokens, expectedOutputTokens, promptJsonOf } from "../schemas/request-size.ts";
import { type AttemptContext, keepMsOf } from "./attempt-context.ts";
import { AttemptRecord, callId } from "./attempt-record.ts";
import { promptAffinityKey } from "./routing/affinity.ts";
import { type Candidate, planCandidates } from "./routing/plan.ts";

/** The deployments to try, in order, and the tokens the request is expected to take. */
export interface Plan {
  route: Route;
  candidates: Candidate[];
  estimatedTokens: number;
}

/**
 * A request planned before it is claimed, so that the trace of its first call is kept by the
 * claim itself (one Redis round trip fewer on the way to every provider call); or why it cannot
 * be served, which its runner reports once the claim is its own.
 */
export type PlannedRequest =
  | { plan: Plan; firstCall: { candidate: Candidate; trace: CallTrace } | undefined }
  | { failure: unknown };

export function planRequest(
  envelope: RequestEnvelope,
  attempt: string,
  context: AttemptContext,
): PlannedRequest {
  let plan: Plan;
  try {
    plan = planFor(envelope, context);
  } catch (failure) {
    return { failure };
  }
  const candidate = plan.candidates[0];
  // A count makes no call record (workers/count.ts), so it leaves no trace either.
  if (!candidate || envelope.countTokens) return { plan, firstCall: undefined };
  const call = callId(attempt, 0);
  const record = new AttemptRecord(envelope, call, context.workerId, candidate);
  const event = record.lostEvent(context.lostCallOutputTokens);
  return { plan, firstCall: { candidate, trace: { call, event, keepMs: keepMsOf(envelope.deadlineMs) } } };
}

function planFor(envelope: RequestEnvelope, context: AttemptContext): Plan {
  const request = envelope.chat ?? envelope.embeddings;
  if (!request)
    throw new GatewayError("invalid_request", "the request carries neither a chat nor an embeddings call");
  // Estimated, enough to match conditions, compare prices and hold quota until the provider says.
  const facts = {
    keyName: envelope.caller.tags.key,
    tags: envelope.caller.tags,
    promptTokens: estimatedPromptTokens(envelope),
    tools: (envelope.chat?.tools.length ?? 0) > 0,
  };
  const route = context.routes.resolve(request.model, facts);
  if (!route)
    throw new GatewayError(
      "not_found",
      `no route of ${request.model} serves this request (see its \`when\`)`,
    );
  const outputTokens = expectedOutputTokens(envelope);
  const candidates = planCandidates(route, context.routes, {
    facts,
    outputTokens,
    hints: envelope.routing,
    affinityKey: route.promptCacheAffinity
      ? promptAffinityKey(envelope.caller.keyId, promptJsonOf(envelope), context.failover.affinityMinTokens)
      : undefined,
    latency: context.failover.latency,
  });
  return { route, candidates, estimatedTokens: facts.promptTokens + outputTokens };
}
