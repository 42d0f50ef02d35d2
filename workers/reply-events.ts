import { GatewayError } from "../schemas/errors.ts";
import type { Failure } from "../schemas/reply-event.ts";
import type { AttemptRecord } from "./attempt-record.ts";
import type { ChatPart } from "./providers/provider.ts";
import type { ReplyStream } from "./reply-stream.ts";

/** What a request's calls have cost so far (failed calls that answered in part are billed too); null when unpriced. */
export function costSoFar(records: AttemptRecord[]): number | null {
  let total = 0;
  for (const record of records) {
    const { costNanoUsd, priced } = record.cost();
    if (!priced) return null;
    total += costNanoUsd;
  }
  return total;
}

/** A provider's part as the reply event the ingress renders; metadata stays in the worker. */
export function replyFor(part: ChatPart): Parameters<ReplyStream["send"]>[0] | undefined {
  switch (part.type) {
    case "text-delta":
      return { kind: "text_delta", choice: part.choice, text: part.text };
    case "reasoning-delta":
      return {
        kind: "text_delta",
        choice: part.choice,
        reasoning: {
          text: part.text ?? "",
          signature: part.signature ?? null,
          redactedData: part.redactedData ?? null,
        },
      };
    case "tool-call-delta":
      return {
        kind: "tool_call_delta",
        choice: part.choice,
        toolCall: {
          index: part.index,
          id: part.id ?? null,
          name: part.name ?? null,
          argumentsDelta: part.argumentsDelta,
        },
      };
    case "finish":
      return {
        kind: "finish",
        choice: part.choice,
        finishReason: part.reason,
        stopSequence: part.stopSequence ?? null,
      };
    case "usage":
      return { kind: "usage", usage: part.usage };
    case "response-metadata":
      return undefined;
  }
}

/** Any error as a reply Failure: gateway errors keep their code; anything else is internal. */
export function toFailure(error: unknown): Failure {
  if (error instanceof GatewayError) {
    return {
      code: error.code,
      message: error.message,
      status: error.status,
      retryAfterMs: error.details.retryAfterMs ?? null,
      param: error.details.param ?? null,
    };
  }
  return {
    code: "internal",
    message: "the worker failed while serving the request",
    status: 500,
    retryAfterMs: null,
    param: null,
  };
}
