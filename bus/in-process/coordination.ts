import { EventEmitter } from "node:events";
import type { Coordination } from "../bus.ts";
import {
  type CancelChannel,
  type Claim,
  type ClaimRequest,
  type ClaimStore,
  cancelMemoryMs,
} from "../coordination.ts";

/** Cancels and claims of a single process: a map and an event emitter. */
export function createInProcessCoordination(): Coordination & { close(): Promise<void> } {
  const cancels = new InProcessCancels();
  return { cancels, claims: new InProcessClaims(cancels), close: () => cancels.close() };
}

class InProcessCancels implements CancelChannel {
  private readonly events = new EventEmitter();
  private readonly cancelled = new Map<string, number>();

  async cancel(id: string, memoryMs = cancelMemoryMs): Promise<void> {
    this.forgetExpired();
    this.cancelled.set(id, Date.now() + memoryMs);
    this.events.emit("cancel", id);
  }
  async onCancel(handler: (requestId: string) => void): Promise<void> {
    this.events.on("cancel", handler);
  }
  has(id: string): boolean {
    const until = this.cancelled.get(id);
    return until !== undefined && until > Date.now();
  }
  async close(): Promise<void> {
    this.events.removeAllListeners();
  }
  private forgetExpired(): void {
    const now = Date.now();
    for (const [id, until] of this.cancelled) if (until <= now) this.cancelled.delete(id);
  }
}

/**
 * The in-process queue hands each request out once and never redelivers it: a claim holds unless
 * the request was cancelled. Nothing outlives the process, so no call is ever left for another
 * runner to record: traces need not be kept.
 */
class InProcessClaims implements ClaimStore {
  constructor(private readonly cancels: InProcessCancels) {}

  async claim({ requestId, batchId, recoverOnly }: ClaimRequest): Promise<Claim> {
    const cancelled = this.cancels.has(requestId) || (batchId !== undefined && this.cancels.has(batchId));
    return { result: cancelled ? "cancelled" : recoverOnly ? "stale" : "claimed", orphans: [] };
  }
  async renew(): Promise<boolean> {
    return true;
  }
  async trace(): Promise<void> {}
  async finish(): Promise<void> {}
  async recorded(): Promise<void> {}
}
