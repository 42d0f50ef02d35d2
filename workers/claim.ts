import type { CallTrace, Claim, ClaimRequest } from "../bus/coordination.ts";
import type { Delivery } from "../bus/messaging.ts";
import type { Logger } from "../runtime/logger.ts";
import type { AttemptEventInput } from "../schemas/attempt-event.ts";
import type { AttemptContext } from "./attempt-context.ts";
import { cancelledLine } from "./batch-line.ts";

/** A claim lives this many heartbeats: a dead worker's claims lapse well before Kafka redelivers. */
export const claimHeartbeats = 3;
/** While Redis cannot be reached, a claim is asked again this often at most. */
const claimRetryMaxMs = 2000;

/**
 * Whether this attempt may run the delivered request. The calls a dead runner left are recorded
 * first (`durable`: false when the bus could not take their events); a delivery not run is
 * counted and, for a finished or cancelled request, logged; a cancelled batch line still reports.
 */
export async function claimDelivery(
  delivery: Delivery,
  attempt: string,
  firstCall: CallTrace | undefined,
  context: AttemptContext,
  log: Logger,
): Promise<{ claimed: boolean; durable: boolean }> {
  const { envelope } = delivery;
  const batch = envelope.batch ?? undefined;
  const ttlMs = context.heartbeatMs * claimHeartbeats;
  const { result, orphans } = await claimPatiently(
    delivery,
    { requestId: envelope.id, attempt, ttlMs, batchId: batch?.batchId, firstCall },
    context,
    log,
  );
  let durable = true;
  if (orphans.length > 0) {
    log.warn({ calls: orphans.length }, "recording the calls of a runner that is gone");
    durable = await recordAttempts(orphans, context, log);
  }
  if (result === "claimed") return { claimed: true, durable };
  context.metrics.refused.inc({ reason: result });
  // A redelivery of a request whose client already has its answer, or was told it failed.
  if (result === "finished" || result === "cancelled") log.info({ reason: result }, "delivery refused");
  // Its coordinator counts every line, so a line it will never run still reports.
  if (result === "cancelled" && batch)
    await context.bus.batchResults.publish({ envelope, attempt, events: cancelledLine(envelope, attempt) });
  return { claimed: false, durable };
}

/**
 * Claims the request, asking again while Redis cannot be reached: the requests delivered during
 * an outage of seconds run once it is over, instead of being dropped. It gives up once the
 * request's deadline has passed, or once the bus has given the request to another worker.
 */
async function claimPatiently(
  delivery: Delivery,
  request: Omit<ClaimRequest, "recoverOnly">,
  context: AttemptContext,
  log: Logger,
): Promise<Claim> {
  const { deadlineMs } = delivery.envelope;
  for (let waitMs = 100; ; waitMs = Math.min(waitMs * 2, claimRetryMaxMs)) {
    try {
      return await context.bus.claims.claim({ ...request, recoverOnly: Date.now() > deadlineMs });
    } catch (error) {
      if (Date.now() > deadlineMs || !delivery.stillOwned()) throw error;
      log.warn({ err: error, retryMs: waitMs }, "cannot claim the request yet; asking again");
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }
}

/** Publishes attempt events and waits until the bus holds them; false if any could not be. */
export async function recordAttempts(
  events: AttemptEventInput[],
  context: AttemptContext,
  log: Logger,
): Promise<boolean> {
  const published = await Promise.allSettled(events.map((event) => context.bus.events.publishAttempt(event)));
  const lost = published.filter((outcome) => outcome.status === "rejected");
  if (lost.length === 0) return true;
  log.error(
    { err: (lost[0] as PromiseRejectedResult).reason, events: lost.length },
    "attempt events not recorded yet",
  );
  return false;
}
