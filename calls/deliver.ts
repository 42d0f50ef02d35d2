import type { Logger } from "../runtime/logger.ts";
import type { ReplyEvent } from "../schemas/reply-event.ts";
import type { Frame, InboundApi } from "./apis/api.ts";
import type { Completion } from "./apis/completion.ts";
import type { StartedCall } from "./call.ts";

/**
 * Answers in the caller's API, the same over HTTP and WebSocket. An API that keeps its answers
 * (a stored Response) has the answer kept before the caller receives the end of it, so that the
 * caller's next call can already refer to it.
 */

/** The whole answer to a call that does not stream. */
export async function wholeAnswer(
  api: InboundApi<unknown>,
  call: StartedCall,
  completion: Completion,
  log: Pick<Logger, "warn">,
): Promise<unknown> {
  const answer = api.respond(completion, call.answer);
  await keep(call, answer, log);
  return answer;
}

/** The frames of a stream, event by event; the event that ends it is rendered once its answer is kept. */
export function streamFrames(
  api: InboundApi<unknown>,
  call: StartedCall,
  log: Pick<Logger, "warn">,
): (event: ReplyEvent) => Promise<Frame[]> {
  const renderer = api.streamRenderer(call.answer);
  return async (event) => {
    const frames = renderer.render(event);
    if (event.kind === "completed" || event.kind === "failed") await keep(call, renderer.answer?.(), log);
    return frames;
  };
}

async function keep(call: StartedCall, answer: unknown, log: Pick<Logger, "warn">): Promise<void> {
  if (!call.parsed.keep || answer === undefined) return;
  try {
    await call.parsed.keep(answer);
  } catch (error) {
    // The caller gets its answer all the same (it was paid for); only referring to it later fails.
    log.warn({ err: error, answerId: call.answer.id }, "an answer could not be stored");
  }
}
