import { collect } from "../calls/apis/completion.ts";
import type { PendingRequest } from "../calls/dispatcher.ts";
import { asGatewayError } from "../calls/errors.ts";
import { type RequestFacts, recordingRequest } from "../calls/request-record.ts";
import type { GatewayError } from "../schemas/errors.ts";
import type { ReplyEvent } from "../schemas/reply-event.ts";
import type { RequestEnvelope } from "../schemas/request-envelope.ts";
import type { RequestEventInput } from "../schemas/request-event.ts";
import type { LineResult } from "./store.ts";

/** A line's answer as the stored result: the completion gathered from its events, or why it failed. */
export async function lineResultOf(
  events: AsyncIterable<ReplyEvent>,
  requestId: string,
): Promise<LineResult> {
  const answeredAt = Math.floor(Date.now() / 1000);
  try {
    return { outcome: "succeeded", requestId, answeredAt, completion: await collect(events) };
  } catch (error) {
    return failedLine(asGatewayError(error), requestId, answeredAt);
  }
}

/** The result of a line that failed (or was cancelled) with this error. */
export function failedLine(failure: GatewayError, requestId: string, answeredAt: number): LineResult {
  return {
    outcome: failure.code === "cancelled" ? "cancelled" : "failed",
    requestId,
    answeredAt,
    error: {
      code: failure.code,
      message: failure.message,
      status: failure.status,
      param: failure.details.param ?? null,
    },
  };
}

/** Events already in hand as a request's event stream, for the code that reads a live one. */
export function pendingOf(requestId: string, events: Iterable<ReplyEvent>): PendingRequest {
  return {
    id: requestId,
    cancel: () => {},
    async *[Symbol.asyncIterator]() {
      yield* events;
    },
  };
}

/** What the request event of a line says of its caller and request, as the ingress's facts do of a call. */
export function lineFacts(envelope: RequestEnvelope, coordinatorId: string): RequestFacts {
  return {
    requestId: envelope.id,
    ingressId: coordinatorId,
    receivedAtMs: envelope.receivedAtMs,
    priority: envelope.priority,
    inboundApi: envelope.inboundApi,
    stream: false,
    keyId: envelope.caller.keyId,
    team: envelope.caller.team,
    user: envelope.caller.user,
    tags: envelope.caller.tags,
    modelRequested: envelope.chat?.model ?? envelope.embeddings?.model ?? "",
    requestBytes: 0,
    prompt: null,
    batchId: envelope.batch?.batchId ?? null,
  };
}

/**
 * A line's result with the request event it makes, recorded as the ingress records a request
 * (`kept`: answered from the answer cache). The event is returned, not published, so that only
 * the first result of a line is counted.
 */
export async function recordedLine(
  pending: PendingRequest,
  facts: RequestFacts,
  cache: string,
  kept: boolean,
): Promise<{ result: LineResult; event: RequestEventInput | undefined }> {
  let event: RequestEventInput | undefined;
  const recorded = recordingRequest(pending, facts, cache, kept, (finished) => {
    event = finished;
  });
  const result = await lineResultOf(recorded, facts.requestId);
  // A line its batch's cancel skipped never ran: it is no request of anyone's.
  return { result, event: result.outcome === "cancelled" ? undefined : event };
}
