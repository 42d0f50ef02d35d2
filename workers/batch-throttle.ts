/**
 * How many batch lines a worker may run at once, adapted so that batch work takes only the
 * capacity interactive work leaves (additive increase, multiplicative decrease, as TCP shares a
 * link). The signal is how long requests of the other priorities waited between their arrival at
 * the ingress and their start here: when one waited longer than `targetWaitMs`, the batch limit
 * halves (once a window); a window without such a wait, while batch lines wait for the limit,
 * raises it by a sixteenth of the cap. Slots are not the only thing batch lines take — CPU, the
 * consumer, the network — so this watches the outcome instead of counting any one of them.
 */
export class BatchThrottle {
  private current: number;
  private windowStartMs: number;
  private slowInWindow = false;
  private decreasedInWindow = false;

  constructor(
    /** The most batch lines at once (workers.share.batch of the slots). */
    private readonly cap: number,
    private readonly targetWaitMs: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.current = cap;
    this.windowStartMs = now();
  }

  get limit(): number {
    return this.current;
  }

  /** A request of another priority starts after waiting `waitedMs` since its arrival. */
  observeWait(waitedMs: number): void {
    this.roll();
    if (this.targetWaitMs <= 0 || waitedMs <= this.targetWaitMs) return;
    this.slowInWindow = true;
    if (this.decreasedInWindow) return;
    this.decreasedInWindow = true;
    this.current = Math.max(1, Math.floor(this.current / 2));
  }

  /** Called as the worker picks its next request; `wantsMore`: batch lines wait while the limit is used up. */
  poll(wantsMore: boolean): void {
    this.roll(wantsMore);
  }

  private roll(wantsMore = false): void {
    const now = this.now();
    if (now - this.windowStartMs < this.windowMs) return;
    if (!this.slowInWindow && wantsMore)
      this.current = Math.min(this.cap, this.current + Math.max(1, Math.ceil(this.cap / 16)));
    this.windowStartMs = now;
    this.slowInWindow = false;
    this.decreasedInWindow = false;
  }
}
