import type { Logger } from "../runtime/logger.ts";
import type { RequestEnvelope } from "../schemas/request-envelope.ts";
import { type AttemptContext, keepMsOf } from "./attempt-context.ts";
import { endCallSpan } from "./call-span.ts";
import { recordAttempts } from "./claim.ts";
import { countCalls } from "./metrics.ts";
import type { Ran } from "./run.ts";

/**
 * Ends a served request: its client (or batch) hears the end, the request is marked finished with
 * its calls' events kept beside the mark, then the events are made durable on the bus and the
 * kept copy dropped. Returns false when the bus could not take them: the request then stays
 * uncommitted, for whoever gets it next to record them.
 */
export async function finishAttempt(
  envelope: RequestEnvelope,
  attempt: string,
  { records, final, replies, batchReplies, span }: Ran,
  context: AttemptContext,
  log: Logger,
): Promise<boolean> {
  const { bus } = context;
  const events = records.map((record) => record.event());
  const finishing = { keepMs: keepMsOf(envelope.deadlineMs), events };
  const undelivered = (error: Error) => log.warn({ err: error }, "a reply could not be delivered");
  if (batchReplies) {
    if (final) replies.send(final);
    await replies.close();
    // Published before the line is marked finished: a crash in between runs it again rather than losing it.
    await bus.batchResults.publish({ envelope, attempt, events: batchReplies.events });
    await bus.claims.finish(envelope.id, finishing);
  } else if (final) {
    // The last reply marks the request finished in the same step.
    replies.send(final, finishing);
    await replies.close().catch(undelivered);
  } else {
    await Promise.all([bus.claims.finish(envelope.id, finishing), replies.close().catch(undelivered)]);
  }
  countCalls(context.metrics, events);
  records.forEach((record, index) => {
    if (record.span && events[index]) endCallSpan(record.span, events[index]);
  });
  span.end();
  const durable = await recordAttempts(events, context, log);
  if (durable) await bus.claims.recorded(envelope.id);
  return durable;
}
