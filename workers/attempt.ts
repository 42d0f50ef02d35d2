import { randomUUID } from "node:crypto";
import type { Delivery } from "../bus/messaging.ts";
import type { AttemptContext } from "./attempt-context.ts";
import { claimDelivery } from "./claim.ts";
import { finishAttempt } from "./finish.ts";
import { planRequest } from "./plan-request.ts";
import { runClaimed } from "./run.ts";

/**
 * Runs one delivered request: skip it if it is stale, cancelled, finished or claimed by a live
 * worker (recording first the calls a dead runner left behind); otherwise serve it from its
 * route's deployments (failing over between them), stream the reply events back and record every
 * call it made. The request is marked finished before its client hears the end of it, and its
 * calls' events travel with that mark until they are durable, so a crash at any point neither
 * runs an answered request again nor loses the record of a call a provider billed.
 */
export async function runAttempt(delivery: Delivery, context: AttemptContext): Promise<void> {
  const { envelope } = delivery;
  const log = context.log.child({ requestId: envelope.id });
  const attempt = `${context.workerId}:${randomUUID().slice(0, 8)}`;
  let durable = true;
  try {
    const planned = planRequest(envelope, attempt, context);
    const firstCall = "plan" in planned ? planned.firstCall?.trace : undefined;
    const claim = await claimDelivery(delivery, attempt, firstCall, context, log);
    durable = claim.durable;
    if (!claim.claimed) return;
    const ran = await runClaimed(envelope, planned, attempt, context, log);
    durable = (await finishAttempt(envelope, attempt, ran, context, log)) && durable;
  } catch (error) {
    log.error({ err: error }, "request could not be run");
  } finally {
    // Events that could not be made durable are kept with the claim: leaving the request
    // uncommitted lets whoever gets it next record them.
    if (durable) delivery.settle();
  }
}
