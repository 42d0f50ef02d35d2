import type { ReplySender } from "../bus/messaging.ts";
import type { ReplyEventInput } from "../schemas/reply-event.ts";
import type { RequestEnvelope } from "../schemas/request-envelope.ts";

/**
 * Where the reply events of a batch line go instead of a client: kept whole until the line ends,
 * then published as one result to the batch coordinators (heartbeats say nothing to them).
 */
export class BatchLineReplies implements ReplySender {
  readonly events: ReplyEventInput[] = [];

  async send(_address: string, event: ReplyEventInput): Promise<void> {
    if (event.kind !== "heartbeat") this.events.push(event);
  }
}

/** The result of a line whose batch was cancelled before it ran. */
export function cancelledLine(envelope: RequestEnvelope, attempt: string): ReplyEventInput[] {
  return [
    {
      requestId: envelope.id,
      attempt,
      seq: 0,
      kind: "failed",
      failure: {
        code: "cancelled",
        message: "the batch was cancelled before this request ran",
        status: 499,
        retryAfterMs: null,
        param: null,
      },
    },
  ];
}
