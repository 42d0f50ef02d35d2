import type { FailoverPolicy, Route } from "../../config/routes.ts";

/**
 * How many extra provider calls (retries and failovers) a worker may make, so that retries cannot
 * multiply the load on providers that are already failing: each first call earns `ratio` of a
 * retry (0.2: at most 20% more calls), and a small allowance per second lets light traffic retry
 * at all. Per worker process, as Envoy's and Finagle's retry budgets are per client.
 */
export class RetryBudget {
  private earned = 0;
  private allowance: number;
  private refilledAt: number;

  constructor(
    private readonly ratio: number,
    private readonly perSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    this.allowance = perSecond;
    this.refilledAt = now();
  }

  /** A request made its first call. */
  earn(): void {
    // Earned retries do not pile up without bound in quiet times: at most a few hundred calls' worth.
    // Rounded to micro-retries, so that five calls at 0.2 earn exactly one.
    const earned = Math.round((this.earned + this.ratio) * 1e6) / 1e6;
    this.earned = Math.min(earned, Math.max(1, this.ratio * 500));
  }

  /** True if one more call may be made now (and counts it). */
  trySpend(): boolean {
    const now = this.now();
    this.allowance = Math.min(
      this.perSecond,
      this.allowance + ((now - this.refilledAt) / 1000) * this.perSecond,
    );
    this.refilledAt = now;
    if (this.allowance >= 1) {
      this.allowance -= 1;
      return true;
    }
    if (this.earned >= 1) {
      this.earned -= 1;
      return true;
    }
    return false;
  }
}

/**
 * A worker's retry budgets: one shared by every route that sets none of its own, and one for each
 * route entry that sets `failover.retryBudget` or `minRetriesPerSecond` (its retries then neither
 * spend nor wait for the others').
 */
export class RetryBudgets {
  private readonly own = new WeakMap<FailoverPolicy, RetryBudget>();

  constructor(private readonly shared: RetryBudget) {}

  of(route: Pick<Route, "failover" | "ownRetryBudget">): RetryBudget {
    if (!route.ownRetryBudget) return this.shared;
    let budget = this.own.get(route.failover);
    if (!budget) {
      budget = new RetryBudget(route.failover.retryBudget, route.failover.minRetriesPerSecond);
      this.own.set(route.failover, budget);
    }
    return budget;
  }
}
