/**
 * Joins the batches handed in within `windowMs` into one call of `handle`, and tells every
 * contributor how that call went. Kafka hands a consumer one batch per partition; storing each
 * alone would make as many small ClickHouse inserts (each a new part to merge) as partitions.
 */
export class GroupHandoff<T> {
  private items: T[] = [];
  private waiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly handle: (items: T[]) => Promise<void>,
    private readonly windowMs: number,
  ) {}

  add(items: T[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.items.push(...items);
      this.waiters.push({ resolve, reject });
      this.timer ??= setTimeout(() => void this.flush(), this.windowMs);
    });
  }

  private async flush(): Promise<void> {
    const items = this.items;
    const waiters = this.waiters;
    this.items = [];
    this.waiters = [];
    this.timer = undefined;
    try {
      if (items.length > 0) await this.handle(items);
      for (const waiter of waiters) waiter.resolve();
    } catch (error) {
      for (const waiter of waiters) waiter.reject(error as Error);
    }
  }
}
