/**
 * Time to first token per deployment, as an exponentially weighted moving average, for the
 * `latency` strategy. Each worker process keeps its own: it learns from the calls it makes.
 */
export class LatencyTracker {
  private readonly averages = new Map<string, number>();

  constructor(private readonly weight = 0.3) {}

  observe(deployment: string, milliseconds: number): void {
    const previous = this.averages.get(deployment);
    this.averages.set(
      deployment,
      previous === undefined ? milliseconds : previous + this.weight * (milliseconds - previous),
    );
  }

  /** The average so far; 0 for a deployment never measured. */
  estimate(deployment: string): number {
    return this.averages.get(deployment) ?? 0;
  }
}
