import { GatewayError } from "../schemas/errors.ts";
import type { Usage } from "../schemas/reply-event.ts";
import type { RequestEventInput } from "../schemas/request-event.ts";
import { contentKinds, type PendingRequest } from "./dispatcher.ts";

/** What the ingress knows of a request from its arrival, for its analytics events. */
export type RequestFacts = Pick<
  RequestEventInput,
  | "requestId"
  | "ingressId"
  | "receivedAtMs"
  | "priority"
  | "inboundApi"
  | "stream"
  | "keyId"
  | "team"
  | "user"
  | "tags"
  | "modelRequested"
  | "requestBytes"
  | "prompt"
  | "batchId"
>;

/**
 * The request's events, unchanged, and its `finished` event published once the caller has its
 * answer, its error, or went away (the iteration stopped early: cancelled). An answer replayed
 * from the cache (`kept`) cost nothing: what it cost to make is what it saved.
 */
export function recordingRequest(
  pending: PendingRequest,
  facts: RequestFacts,
  cache: string,
  kept: boolean,
  publish: (event: RequestEventInput) => void,
  /** Set when the operator stores content: the answer's text is kept, redacted by it. */
  redact?: (text: string) => string,
): PendingRequest {
  return {
    id: pending.id,
    cancel: () => pending.cancel(),
    async *[Symbol.asyncIterator]() {
      const seen: Partial<RequestEventInput> = { outcome: "cancelled", status: 499, errorCode: "cancelled" };
      let usage: Usage | null = null;
      let costNanoUsd: number | null = null;
      const completion: string[] = [];
      try {
        for await (const event of pending) {
          // A kept answer names the provider that once made it; this request called none.
          if (event.started && !kept) {
            seen.provider = event.started.provider;
            seen.providerModel = event.started.model;
          }
          if (contentKinds.has(event.kind)) {
            seen.firstTokenAtMs ??= Date.now();
            if (redact && event.text) completion.push(event.text);
            if (redact && event.toolCall)
              completion.push(event.toolCall.name ?? "", event.toolCall.argumentsDelta);
          } else if (event.kind === "usage") {
            usage = event.usage;
            costNanoUsd = event.costNanoUsd;
          } else if (event.kind === "failed" && event.failure) {
            Object.assign(seen, {
              outcome: "failed",
              status: event.failure.status,
              errorCode: event.failure.code,
            });
          } else if (event.kind === "completed") {
            Object.assign(seen, { outcome: "completed", status: 200, errorCode: null });
          }
          yield event;
        }
      } finally {
        publish({
          ...facts,
          ...seen,
          stage: "finished",
          finishedAtMs: Date.now(),
          cache,
          usage,
          costNanoUsd: kept ? 0 : (costNanoUsd ?? 0),
          priced: costNanoUsd !== null,
          costSavedNanoUsd: kept ? (costNanoUsd ?? 0) : 0,
          completion: redact ? redact(completion.join("")) : null,
        });
      }
    },
  };
}

/** A request refused at the ingress (invalid, unknown model, overloaded): no worker saw it. */
export function rejectedRequest(facts: RequestFacts, error: unknown, status: number): RequestEventInput {
  return {
    ...facts,
    stage: "finished",
    finishedAtMs: Date.now(),
    outcome: "rejected",
    status,
    errorCode: error instanceof GatewayError ? error.code : "internal",
  };
}
