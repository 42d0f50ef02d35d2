/**
 * The requests of one priority waiting in a worker, served fairly between tenants: the next one
 * comes from the waiting tenant that was served the fewest tokens lately (counts halve every
 * `halfLifeMs`), each tenant's own requests in arrival order. When a provider is saturated and
 * requests queue, a tenant's flood cannot starve the others of the same priority: a newcomer is
 * served next, and tenants alternate by tokens, not by requests. With one tenant it is FIFO.
 */
export class FairQueue<T> {
  private readonly waiting: T[] = [];
  private readonly served = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly tenantOf: (item: T) => string,
    private readonly costOf: (item: T) => number,
    private readonly halfLifeMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  get length(): number {
    return this.waiting.length;
  }

  push(item: T): void {
    this.waiting.push(item);
  }

  take(): T | undefined {
    const now = this.now();
    let best: { index: number; tenant: string; served: number } | undefined;
    const seen = new Set<string>();
    for (const [index, item] of this.waiting.entries()) {
      const tenant = this.tenantOf(item);
      if (seen.has(tenant)) continue;
      seen.add(tenant);
      const served = this.servedTokens(tenant, now);
      if (!best || served < best.served) best = { index, tenant, served };
    }
    if (!best) return undefined;
    const [item] = this.waiting.splice(best.index, 1) as [T];
    this.served.set(best.tenant, { tokens: best.served + this.costOf(item), at: now });
    return item;
  }

  private servedTokens(tenant: string, now: number): number {
    const entry = this.served.get(tenant);
    if (!entry) return 0;
    const decayed = entry.tokens * 0.5 ** ((now - entry.at) / this.halfLifeMs);
    if (decayed >= 1) return decayed;
    this.served.delete(tenant);
    return 0;
  }
}
