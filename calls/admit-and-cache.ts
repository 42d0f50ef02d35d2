import type { Route } from "../config/routes.ts";
import { type Admission, admitCall, type Governance } from "../governance/admission.ts";
import { applyGuardrails } from "../governance/guardrails/index.ts";
import type { ApiGroup } from "../governance/keys/admin-schema.ts";
import type { Caller } from "../governance/keys/keyring.ts";
import { GatewayError } from "../schemas/errors.ts";
import type { ChatRequest, RequestEnvelope } from "../schemas/request-envelope.ts";
import type { AnswerCache, CacheStatus, Lead, SemanticEntry } from "./cache/answer-cache.ts";
import type { KeptStatus } from "./cache/hit-event.ts";
import { cacheKey } from "./cache/key.ts";
import type { SimilarAnswer } from "./cache/semantic-lookup.ts";
import type { CachedAnswer } from "./cache/store.ts";
import type { PendingRequest } from "./dispatcher.ts";
import type { CacheMode } from "./steering.ts";

/** What the step reads of a request about to be published, and changes (its chat). */
export type CallEnvelope = Pick<RequestEnvelope, "id" | "inboundApi" | "stream" | "chat" | "embeddings">;

/** One call, from the edge or a batch file, as the step sees it. */
export interface CallToAdmit {
  caller: Caller;
  group: ApiGroup;
  route: Route;
  /** What will be published: the step bounds its max_tokens and passes its chat through the guardrails. */
  envelope: CallEnvelope;
  cache: { mode: CacheMode; ttlSeconds: number | null };
  /** A batch line: held against budgets until `holdMs`, not counted against per-minute rate limits. */
  batch?: { holdMs: number };
  /**
   * A call whose caller waits for it (the edge's): identical calls in flight share one provider
   * call, and `similar` may find the kept answer of a similar request (the semantic cache).
   */
  interactive?: { similar: (chat: ChatRequest | null | undefined) => Promise<SimilarAnswer> };
}

/** What the step decided: a kept answer serves the call, or it goes to the providers. */
export interface AdmittedCall {
  admission: Admission;
  /** What the answer cache did; undefined: the route keeps no answers. */
  cacheStatus?: CacheStatus;
  /** A kept answer to serve the call with (exact, shared with an identical call in flight, or similar). */
  kept?: { answer: CachedAnswer; status: KeptStatus; similarity?: number };
  /** The call's answer as it comes back, kept in the cache when it is one to keep (a miss or refresh). */
  keep(pending: PendingRequest): PendingRequest;
  /** The call was not published after all: identical calls waiting for it look elsewhere. */
  abandon(): void;
}

export interface AdmitServices {
  governance: Governance;
  cache: AnswerCache;
}

/**
 * What every call goes through before it is published, whether it came over HTTP, a WebSocket or
 * a batch file: its key's policy (access, limits, rate limits, budget hold), its route's
 * guardrails (the deny list, redaction), then the answer cache. Policy first: a kept answer is
 * served only to a caller who may have it now. Throws the refusal as a GatewayError.
 */
export async function admitAndCache(services: AdmitServices, call: CallToAdmit): Promise<AdmittedCall> {
  const { envelope, caller, route } = call;
  const chat = envelope.chat ?? undefined;
  const admission = await admitCall(services.governance, caller, {
    requestId: envelope.id,
    group: call.group,
    model: chat?.model ?? envelope.embeddings?.model ?? "",
    route,
    stream: envelope.stream,
    maxTokens: chat?.maxTokens ?? null,
    n: chat?.n ?? 1,
    prompt: envelope,
    ...(call.batch && { batch: call.batch }),
  });
  try {
    // A key's max_tokens bound applies to a request that names none, so no call runs unbounded.
    if (chat && chat.maxTokens === null) chat.maxTokens = admission.maxTokens;
    if (route.guardrails && chat)
      envelope.chat = guardedChat(services.governance, caller, envelope.id, route.guardrails, chat);
    return { admission, ...(await lookUp(services.cache, call)) };
  } catch (error) {
    admission.end({ costNanoUsd: 0, priced: true, usage: null, provider: "" });
    throw error;
  }
}

/** The answer cache's part: a kept answer, or how the call's own answer will be kept. */
async function lookUp(cache: AnswerCache, call: CallToAdmit): Promise<Omit<AdmittedCall, "admission">> {
  const { envelope, route, interactive } = call;
  const nothingToKeep = { keep: (pending: PendingRequest) => pending, abandon: () => {} };
  // The cache settings of a model name are those of its first entry (conditions need the worker's view).
  const ttlSeconds = Math.min(route.cacheTtlSeconds, call.cache.ttlSeconds ?? route.cacheTtlSeconds);
  if (ttlSeconds <= 0) return nothingToKeep;
  const { mode } = call.cache;
  const key = cacheKey(call.caller.keyId, envelope.inboundApi, {
    chat: envelope.chat ?? null,
    embeddings: envelope.embeddings ?? null,
  });
  if (mode === "bypass" || mode === "refresh") return keeping(cache, call, key, ttlSeconds, mode);
  const joined = interactive ? cache.join(key) : undefined;
  // A follower shares the first call's lookup and, on a miss, its provider call.
  const shared = joined && "follow" in joined ? await joined.follow : undefined;
  if (shared) return { ...nothingToKeep, cacheStatus: shared.status, kept: shared };
  const lead = joined && "lead" in joined ? joined.lead : undefined;
  const found = await cache.lookup(key);
  if (found && found !== "unavailable") return served(lead, { answer: found, status: "hit" });
  const status = found === "unavailable" ? "unavailable" : "miss";
  // With the store down the index is too: an embedding call would be paid for nothing.
  const similar = interactive && status === "miss" ? await interactive.similar(envelope.chat) : {};
  if (similar.found)
    return served(lead, {
      answer: similar.found.answer,
      status: "semantic-hit",
      similarity: similar.found.similarity,
    });
  return keeping(cache, call, key, ttlSeconds, status, lead, similar.entry);
}

/** A kept answer serves the call; an identical call waiting on this one is served the same. */
function served(
  lead: Lead | undefined,
  kept: NonNullable<AdmittedCall["kept"]>,
): Omit<AdmittedCall, "admission"> {
  lead?.settle(kept);
  return { cacheStatus: kept.status, kept, keep: (pending) => pending, abandon: () => {} };
}

/** The call goes to the providers; its answer is kept when it comes back, unless the caller said not to. */
function keeping(
  cache: AnswerCache,
  call: CallToAdmit,
  key: string,
  ttlSeconds: number,
  status: CacheStatus,
  lead?: Lead,
  entry?: SemanticEntry,
): Omit<AdmittedCall, "admission"> {
  const kept = (status === "miss" || status === "refresh") && call.cache.mode !== "no-store";
  return {
    cacheStatus: status,
    keep: (pending) => {
      if (!kept) {
        lead?.settle(undefined);
        return pending;
      }
      return keptWhenAnswered(cache, key, ttlSeconds, call.envelope.chat, pending, lead, entry);
    },
    abandon: () => lead?.settle(undefined),
  };
}

/** A call's answer, kept in the cache under `key` once it comes back whole (see AnswerCache.recording). */
export function keptWhenAnswered(
  cache: AnswerCache,
  key: string,
  ttlSeconds: number,
  chat: ChatRequest | null | undefined,
  pending: PendingRequest,
  lead?: Lead,
  entry?: SemanticEntry,
): PendingRequest {
  // Tool calls are kept only from a deterministic request (temperature 0).
  return cache.recording(pending, key, ttlSeconds * 1000, chat?.temperature === 0, lead, entry);
}

/**
 * A chat request through its route's guardrails: refused when it matches the deny list, else sent
 * with personal data and secrets replaced. Each action is in the audit log, counted, never quoted.
 */
export function guardedChat(
  governance: Governance,
  caller: Caller,
  requestId: string,
  guardrails: NonNullable<Route["guardrails"]>,
  chat: ChatRequest,
): ChatRequest {
  const guarded = applyGuardrails(guardrails, chat);
  if (guarded.action?.kind === "deny") {
    const reason = `the request matches rule ${guarded.action.rule} of this model's deny list`;
    governance.refused(caller, requestId, "guardrail.deny", reason);
    throw new GatewayError("invalid_request", `${reason} and is refused`, { param: "messages" });
  }
  if (guarded.action?.kind === "redact") governance.redacted(caller, requestId, guarded.action.counts);
  return guarded.chat;
}
