import { type Span, SpanKind, type Tracer } from "@opentelemetry/api";
import type { Route, RouteTable } from "../config/routes.ts";
import type { Admission, Governance } from "../governance/admission.ts";
import { redactStored } from "../governance/guardrails/index.ts";
import type { Caller } from "../governance/keys/keyring.ts";
import { uuidv7 } from "../runtime/ids.ts";
import { extractContext, injectContext } from "../runtime/tracing.ts";
import { GatewayError } from "../schemas/errors.ts";
import type { Priority } from "../schemas/request-envelope.ts";
import type { RequestEventInput } from "../schemas/request-event.ts";
import { admitAndCache } from "./admit-and-cache.ts";
import type { AnswerContext, InboundApi, ParsedCall } from "./apis/api.ts";
import { collect } from "./apis/completion.ts";
import { validateBody } from "./apis/validate.ts";
import type { AnswerCache, CacheStatus } from "./cache/answer-cache.ts";
import { cacheHitEvent } from "./cache/hit-event.ts";
import { findSimilarAnswer } from "./cache/semantic-lookup.ts";
import type { Dispatcher, PendingRequest } from "./dispatcher.ts";
import { asGatewayError, statusOf } from "./errors.ts";
import type { IngressMetrics, RequestObservation } from "./metrics.ts";
import { type RequestFacts, recordingRequest, rejectedRequest } from "./request-record.ts";
import { endRequestSpan } from "./request-span.ts";
import type { CallSteering } from "./steering.ts";
import { type ResponseStore, tenantOf } from "./stored-responses/store.ts";

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
  /** The Responses API's stored responses. */
  responses: ResponseStore;
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
  const valid = validateBody(api.bodySchema, body);
  const parsed = api.parseContinuing
    ? await api.parseContinuing(valid, { store: services.responses, tenant: tenantOf(caller) })
    : api.parse(valid);
  if (options.forceStream && api.streams) parsed.stream = true;
  Object.assign(facts, {
    stream: parsed.stream,
    user: caller.user ?? parsed.user ?? null,
    modelRequested: parsed.model,
  });
  const route = services.routes.resolve(parsed.model);
  if (!route)
    throw new GatewayError(
      "not_found",
      `the model ${parsed.model} does not exist or is not served by this gateway`,
      {
        param: "model",
      },
    );
  const envelope = envelopeOf(api, parsed, caller, facts, steering, span);
  const admitted = await admitAndCache(services, {
    caller,
    group: api.group,
    route,
    envelope,
    cache: steering.cache,
    interactive: {
      similar: (chat) =>
        findSimilarAnswer(
          services.cache,
          (model, text) => embedThroughGateway(services, caller, model, text),
          route,
          chat ?? undefined,
          caller.keyId,
        ),
    },
  });
  const { admission, cacheStatus } = admitted;
  recording.admission = admission;
  const storedText = storedTextOf(route, services);
  facts.prompt = storedText?.(JSON.stringify(envelope.chat?.messages ?? envelope.embeddings?.input)) ?? null;
  observation.accepted(parsed.model, envelope.priority);
  const answer = {
    id: envelope.id.replaceAll("-", ""),
    model: parsed.model,
    createdSeconds: Math.floor(facts.receivedAtMs / 1000),
    options: parsed.render,
  };
  const started = { parsed, answer, headers: admission.headers, cacheStatus };
  if (admitted.kept) {
    const { answer: kept, status, similarity } = admitted.kept;
    const dispatcher = services.dispatcher;
    dispatcher.recordAttempt(
      cacheHitEvent(envelope, parsed.model, kept, facts.receivedAtMs, dispatcher.id, status),
    );
    observation.cache(status);
    return {
      ...started,
      pending: recordingRequest(
        services.cache.replay(envelope.id, kept),
        facts,
        status,
        true,
        finished,
        storedText,
      ),
      ...(similarity !== undefined && { cacheSimilarity: similarity }),
    };
  }
  let pending: PendingRequest;
  try {
    pending = await services.dispatcher.submit({ ...envelope, cache: cacheStatus ?? null });
  } catch (error) {
    admitted.abandon();
    throw error;
  }
  pending = admitted.keep(pending);
  if (cacheStatus) observation.cache(cacheStatus);
  // In flight from here: visible in analytics before it ends (or if its ingress dies).
  services.dispatcher.recordRequest({ ...facts, stage: "received", cache: cacheStatus ?? "" });
  return {
    ...started,
    pending: recordingRequest(pending, facts, cacheStatus ?? "", false, finished, storedText),
  };
}

/** The request to publish: what the caller asked, who asked, and the trace it belongs to. */
function envelopeOf(
  api: InboundApi<unknown>,
  parsed: ParsedCall,
  caller: Caller,
  facts: RequestFacts,
  steering: CallSteering,
  span: Span,
) {
  return {
    id: facts.requestId,
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
}

/** How a call's prompt and completion are stored (when the operator stores content): redacted by the route too. */
function storedTextOf(route: Route, services: CallServices) {
  const { guardrails } = route;
  const stored = services.storedContent;
  return stored && guardrails ? (text: string) => redactStored(guardrails, stored(text)) : stored;
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
