import { type Span, SpanKind, type Tracer } from "@opentelemetry/api";
import type { RouteTable } from "../config/routes.ts";
import { type Admission, admitCall, type Governance } from "../governance/admission.ts";
import { applyGuardrails, type Guardrails, redactStored } from "../governance/guardrails/index.ts";
import { uuidv7 } from "../runtime/ids.ts";
import { extractContext, injectContext } from "../runtime/tracing.ts";
import { GatewayError } from "../schemas/errors.ts";
import type { ChatRequest, Priority } from "../schemas/request-envelope.ts";
import type { RequestEventInput } from "../schemas/request-event.ts";
import type { AnswerContext, InboundApi, ParsedCall } from "./apis/api.ts";
import { collect } from "./apis/completion.ts";
import { validateBody } from "./apis/validate.ts";
import type { Caller } from "./auth.ts";
import type { AnswerCache, CacheStatus, Lead, SemanticEntry } from "./cache/answer-cache.ts";
import { cacheHitEvent, type KeptStatus } from "./cache/hit-event.ts";
import { cacheKey } from "./cache/key.ts";
import { findSimilarAnswer } from "./cache/semantic-lookup.ts";
import type { CachedAnswer } from "./cache/store.ts";
import type { CallSteering } from "./call-headers.ts";
import type { Dispatcher, PendingRequest } from "./dispatcher.ts";
import { asGatewayError, statusOf } from "./errors.ts";
import type { IngressMetrics, RequestObservation } from "./metrics.ts";
import { type RequestFacts, recordingRequest, rejectedRequest } from "./request-record.ts";
import { endRequestSpan } from "./request-span.ts";

export interface CallServices {
  dispatcher: Dispatcher;
  routes: RouteTable;
  cache: AnswerCache;
  metrics: IngressMetrics;
  defaultPriority: Priority;
  /** Set when the operator stores prompts and completions (analytics.content): redacts them first. */
  storedContent?: (text: string) => string;
  tracer: Tracer;
  /** Keys' and teams' policy: access, limits, budgets (governance/). */
  governance: Governance;
}

export interface StartedCall {
  parsed: ParsedCall;
  pending: PendingRequest;
  answer: AnswerContext;
  /** What the answer cache did, for the `x-gateway-cache` response header; undefined: the model is not cached. */
  cacheStatus?: CacheStatus;
  /** For a semantic hit: how similar the kept request was (cosine), for `x-gateway-cache-similarity`. */
  cacheSimilarity?: number;
  /** Response headers of the caller's rate limits (x-ratelimit-*). */
  headers: Record<string, string>;
}

/**
 * Everything between a received body and a published request, the same for HTTP and WebSocket:
 * validate, translate, check the model, choose the priority, publish. Throws a GatewayError
 * (nothing is published) when any step refuses. `observation` learns the labels of its metrics.
 */
export async function startCall(
  api: InboundApi<unknown>,
  body: unknown,
  caller: Caller,
  steering: CallSteering,
  services: CallServices,
  observation: RequestObservation,
  options: CallOptions = {},
): Promise<StartedCall> {
  const facts: RequestFacts = {
    requestId: uuidv7(),
    ingressId: services.dispatcher.id,
    receivedAtMs: Date.now(),
    priority: priorityOf(steering, caller, services.defaultPriority),
    inboundApi: api.wire,
    stream: false,
    keyId: caller.keyId,
    team: caller.team ?? null,
    user: caller.user ?? null,
    // The key's own tags win over the request's: cost attribution is the key's to say.
    tags: { ...steering.tags, ...caller.tags, ...(caller.name && { key: caller.name }) },
    modelRequested:
      typeof (body as { model?: unknown })?.model === "string" ? (body as { model: string }).model : "",
    requestBytes: options.requestBytes ?? 0,
  };
  const span = services.tracer.startSpan(
    "gateway.request",
    { kind: SpanKind.SERVER, attributes: { "gateway.api": api.wire } },
    extractContext(options.traceHeaders ?? {}),
  );
  // Recorded once the last bytes have been handed to the socket (the route writes after the
  // events end), so the event can say how much the caller was sent. The admission is settled
  // first: what the call cost is known, and its budget hold is released without waiting.
  const recording: Recording = {
    facts,
    span,
    finished: (event) => {
      recording.admission?.end(event);
      setImmediate(() => {
        const recorded = { ...event, responseBytes: options.responseBytes?.() ?? 0 };
        services.dispatcher.recordRequest(recorded);
        endRequestSpan(span, recorded);
      });
    },
  };
  try {
    return await answerCall([api, body, caller, steering, services, observation, options], recording);
  } catch (error) {
    recording.finished(rejectedRequest(facts, error, statusOf(asGatewayError(error), api.shape)));
    throw error;
  }
}

export interface CallOptions {
  /** Stream the answer whatever the body says (WebSocket). */
  forceStream?: boolean;
  /** The size of the request as it arrived, for analytics. */
  requestBytes?: number;
  /** What the caller has been sent so far, in bytes: read once the answer is out. */
  responseBytes?: () => number;
  /** The caller's headers: a traceparent there makes the request's span part of the caller's trace. */
  traceHeaders?: Record<string, unknown>;
}

/** The request's analytics record and trace span, begun by startCall, ended when the caller has its answer. */
interface Recording {
  facts: RequestFacts;
  span: Span;
  finished: (event: RequestEventInput) => void;
  /** Set once the call is admitted: ended with the request's finished event. */
  admission?: Admission;
}

async function answerCall(
  [api, body, caller, steering, services, observation, options = {}]: Parameters<typeof startCall>,
  recording: Recording,
): Promise<StartedCall> {
  const { facts, span, finished } = recording;
  const receivedAtMs = facts.receivedAtMs;
  const parsed = api.parse(validateBody(api.bodySchema, body));
  if (options.forceStream && api.streams) parsed.stream = true;
  Object.assign(facts, {
    stream: parsed.stream,
    user: caller.user ?? parsed.user ?? null,
    modelRequested: parsed.model,
  });
  const route = services.routes.resolve(parsed.model);
  if (!route) {
    throw new GatewayError(
      "not_found",
      `the model ${parsed.model} does not exist or is not served by this gateway`,
      {
        param: "model",
      },
    );
  }
  const id = facts.requestId;
  const envelope = {
    id,
    priority: facts.priority,
    inboundApi: api.wire,
    stream: parsed.stream,
    caller: {
      keyId: caller.keyId,
      team: facts.team ?? null,
      user: facts.user ?? null,
      tags: facts.tags ?? {},
    },
    routing: steering.routing,
    chat: parsed.chat ?? null,
    embeddings: parsed.embeddings ?? null,
    traceContext: injectContext(span),
  };
  const admission = await admitCall(services.governance, caller, {
    requestId: id,
    group: api.group,
    model: parsed.model,
    route,
    stream: parsed.stream,
    maxTokens: parsed.chat?.maxTokens ?? null,
    n: parsed.chat?.n ?? 1,
    prompt: envelope,
  });
  recording.admission = admission;
  // A key's max_tokens bound applies to a request that names none, so no call runs unbounded.
  if (envelope.chat && envelope.chat.maxTokens === null) envelope.chat.maxTokens = admission.maxTokens;
  if (route.guardrails && envelope.chat)
    envelope.chat = guardedChat(services.governance, caller, id, route.guardrails, envelope.chat);
  // What is stored of the call (when the operator stores content) goes through the route's redaction too.
  const { guardrails } = route;
  const stored = services.storedContent;
  const storedText = stored && guardrails ? (text: string) => redactStored(guardrails, stored(text)) : stored;
  facts.prompt = storedText?.(JSON.stringify(envelope.chat?.messages ?? envelope.embeddings?.input)) ?? null;
  observation.accepted(parsed.model, envelope.priority);
  const answer = {
    id: id.replaceAll("-", ""),
    model: parsed.model,
    createdSeconds: Math.floor(receivedAtMs / 1000),
    options: parsed.render,
  };

  // The cache settings of a model name are those of its first entry (conditions need the worker's view).
  const ttlSeconds = Math.min(route.cacheTtlSeconds, steering.cache.ttlSeconds ?? route.cacheTtlSeconds);
  const mode = steering.cache.mode;
  const key = ttlSeconds > 0 ? cacheKey(caller.keyId, api.wire, envelope) : undefined;
  let cacheStatus: CacheStatus | undefined;
  let lead: Lead | undefined;
  let semanticEntry: SemanticEntry | undefined;
  /** Answers from a kept answer (a hit, a coalesced or a semantic one): the same for all three. */
  const serveKept = (kept: CachedAnswer, status: KeptStatus, similarity?: number): StartedCall => {
    lead?.settle({ answer: kept, status, ...(similarity !== undefined && { similarity }) });
    services.dispatcher.recordAttempt(
      cacheHitEvent(envelope, parsed.model, kept, receivedAtMs, services.dispatcher.id, status),
    );
    observation.cache(status);
    return {
      parsed,
      pending: recordingRequest(services.cache.replay(id, kept), facts, status, true, finished, storedText),
      answer,
      headers: admission.headers,
      cacheStatus: status,
      ...(similarity !== undefined && { cacheSimilarity: similarity }),
    };
  };
  if (key !== undefined && (mode === "use" || mode === "no-store")) {
    const joined = services.cache.join(key);
    // A follower shares the first call's lookup and, on a miss, its provider call.
    const shared = "follow" in joined ? await joined.follow : undefined;
    if (shared) return serveKept(shared.answer, shared.status, shared.similarity);
    lead = "lead" in joined ? joined.lead : undefined;
    const cached = await services.cache.lookup(key);
    if (cached && cached !== "unavailable") return serveKept(cached, "hit");
    cacheStatus = cached === "unavailable" ? "unavailable" : "miss";
    // With the store down the index is too: an embedding call would be paid for nothing.
    const similar =
      cacheStatus === "unavailable"
        ? {}
        : await findSimilarAnswer(
            services.cache,
            (model, text) => embedThroughGateway(services, caller, model, text),
            route,
            parsed.chat,
            caller.keyId,
          );
    semanticEntry = similar.entry;
    if (similar.found) return serveKept(similar.found.answer, "semantic-hit", similar.found.similarity);
  } else if (key !== undefined) {
    cacheStatus = mode === "refresh" ? "refresh" : "bypass";
  }

  let pending: PendingRequest;
  try {
    pending = await services.dispatcher.submit({ ...envelope, cache: cacheStatus ?? null });
  } catch (error) {
    lead?.settle(undefined);
    throw error;
  }
  if (key !== undefined && (cacheStatus === "miss" || cacheStatus === "refresh") && mode !== "no-store") {
    pending = services.cache.recording(
      pending,
      key,
      ttlSeconds * 1000,
      parsed.chat?.temperature === 0,
      lead,
      semanticEntry,
    );
  } else {
    lead?.settle(undefined);
  }
  if (cacheStatus) observation.cache(cacheStatus);
  // In flight from here: visible in analytics before it ends (or if its ingress dies).
  services.dispatcher.recordRequest({ ...facts, stage: "received", cache: cacheStatus ?? "" });
  pending = recordingRequest(pending, facts, cacheStatus ?? "", false, finished, storedText);
  return { parsed, pending, answer, cacheStatus, headers: admission.headers };
}

/**
 * A chat request through its route's guardrails: refused when it matches the deny list, else sent
 * with personal data and secrets replaced. Each action is in the audit log, counted, never quoted.
 */
function guardedChat(
  governance: Governance,
  caller: Caller,
  requestId: string,
  guardrails: Guardrails,
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

const rank: Record<Priority, number> = { interactive: 2, default: 1, batch: 0 };

/**
 * The request's priority: the x-gateway-priority header, else its key's, else the default. A
 * virtual key that names a priority caps it: the header may lower it, never raise it.
 */
function priorityOf(steering: CallSteering, caller: Caller, fallback: Priority): Priority {
  const asked = steering.priority;
  const keyCap = caller.grant?.key.priority;
  if (asked && keyCap && rank[asked] > rank[keyCap])
    throw new GatewayError(
      "permission",
      `this key may send requests at priority ${keyCap} or lower, not ${asked}`,
      {
        param: "x-gateway-priority",
      },
    );
  return asked ?? caller.priority ?? fallback;
}

/**
 * An embedding for the semantic cache, made by one of this gateway's models like any caller's
 * request (so it is routed, failed over and recorded in analytics as the cache's own call).
 */
async function embedThroughGateway(
  services: CallServices,
  caller: Caller,
  model: string,
  text: string,
): Promise<number[] | undefined> {
  try {
    const pending = await services.dispatcher.submit({
      id: uuidv7(),
      priority: "interactive",
      inboundApi: "openai_embeddings",
      stream: false,
      caller: { keyId: caller.keyId, team: null, user: null, tags: { purpose: "semantic-cache" } },
      routing: null,
      chat: null,
      embeddings: { model, input: [text], dimensions: null },
    });
    return (await collect(pending)).embeddings[0];
  } catch {
    return undefined;
  }
}
