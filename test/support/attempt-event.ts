import { randomUUID } from "node:crypto";
import type { AttemptEventInput } from "../../schemas/attempt-event.ts";

/** A completed call's event with every required field, for tests that publish or keep events; `fields` override. */
export function attemptEvent(fields: Partial<AttemptEventInput> = {}): AttemptEventInput {
  const now = Date.now();
  return {
    requestId: randomUUID(),
    attempt: "w:a.0",
    workerId: "w",
    receivedAtMs: now,
    startedAtMs: now,
    finishedAtMs: now,
    priority: "interactive",
    inboundApi: "openai-chat",
    stream: false,
    keyId: "k",
    modelRequested: "m",
    outcome: "completed",
    status: 200,
    usage: { inputTokens: 10, outputTokens: 1 },
    usageEstimated: false,
    ...fields,
  };
}
