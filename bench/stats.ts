/** The q-quantile (0..1) of samples, by nearest rank. */
export function quantile(samples: number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

export function summary(samples: number[]) {
  return {
    n: samples.length,
    p50: quantile(samples, 0.5),
    p90: quantile(samples, 0.9),
    p99: quantile(samples, 0.99),
  };
}

/** The arithmetic mean; 0 for no values. */
export const mean = (values: number[]) =>
  values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);

/** The slowest `share` of `items` by `durationOf`, slowest first: at least one when there are any. */
export function slowestShare<T>(items: T[], durationOf: (item: T) => number, share: number): T[] {
  return [...items]
    .sort((a, b) => durationOf(b) - durationOf(a))
    .slice(0, Math.max(1, Math.round(items.length * share)));
}

export const ms = (value: number) => (Number.isFinite(value) ? value.toFixed(2) : "n/a");

/**
 * Runs `fire` at a fixed rate for `durationMs`, without waiting for answers (an open loop, so a
 * slow answer cannot hold back the next request and hide its own delay). Each result is measured
 * from the request's scheduled start.
 */
export async function openLoop(
  rate: number,
  durationMs: number,
  fire: (scheduledAt: number) => Promise<number>,
): Promise<{ latencies: number[]; errors: number; firstError?: string }> {
  const interval = 1000 / rate;
  const total = Math.floor((durationMs / 1000) * rate);
  const start = performance.now();
  const pending: Array<Promise<void>> = [];
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  for (let index = 0; index < total; index++) {
    const due = start + index * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    // Timers fire up to a millisecond early or late: a request counts from its due time, or from
    // when it really left if that was earlier than due.
    const scheduledAt = Math.min(due, performance.now());
    pending.push(
      fire(scheduledAt).then(
        (latency) => void latencies.push(latency),
        (error: Error) => {
          if (errors++ === 0) {
            firstError = error.message;
            console.error(`first error: ${error.message}`);
          }
        },
      ),
    );
  }
  await Promise.all(pending);
  return { latencies, errors, firstError };
}

/** A deterministic stream of first-byte latencies, uniform in [low, high] ms. */
export function uniformLatencies(seed: number, low: number, high: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const unit = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return Math.round(low + unit * (high - low));
  };
}
