/**
 * Each gateway process's event-loop delay and garbage collections over a phase, read from its own
 * /metrics (prom-client's defaults, prefix `gateway_`): the event-loop delay histogram is reset at
 * every scrape, so a scrape as the phase starts and one as it ends give the phase's own figures;
 * the collections' histogram only grows, so the two are subtracted.
 */

/**
 * prom-client samples the loop every 10 ms (its default precision) and records the time between
 * two samples: an idle loop reads 10 ms. What is past that is how late the loop was.
 */
const samplingMs = 10;
const lateBy = (seconds: number) => Math.max(0, seconds * 1000 - samplingMs);

/** One process's figures: a scrape's own (collections since it started), or a phase's. */
export interface LoopFigures {
  /** How late the event loop was over the phase (ms): its 99th percentile and its longest. */
  delayP99Ms: number;
  delayMaxMs: number;
  /** Garbage collections of every kind: how many and their pauses in all (ms). */
  collections: number;
  collectionMs: number;
}

async function scrape(url: string): Promise<LoopFigures> {
  const text = await (await fetch(new URL("/metrics", url))).text();
  const sumOf = (name: string) =>
    text
      .split("\n")
      .filter((line) => line.startsWith(name))
      .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(" ") + 1)), 0);
  return {
    delayP99Ms: lateBy(sumOf("gateway_nodejs_eventloop_lag_p99_seconds")),
    delayMaxMs: lateBy(sumOf("gateway_nodejs_eventloop_lag_max_seconds")),
    collections: sumOf("gateway_nodejs_gc_duration_seconds_count"),
    collectionMs: sumOf("gateway_nodejs_gc_duration_seconds_sum") * 1000,
  };
}

/** Starts watching the processes of each role (one scrape each now); `stop` gives each one's figures since. */
export async function watchLoops(urlsByRole: Record<string, string[]>) {
  const scrapeAll = () =>
    Promise.all(
      Object.entries(urlsByRole).map(
        async ([role, urls]) => [role, await Promise.all(urls.map(scrape))] as const,
      ),
    );
  const before = new Map(await scrapeAll());
  return {
    async stop(): Promise<Record<string, LoopFigures[]>> {
      const after = await scrapeAll();
      return Object.fromEntries(
        after.map(([role, ends]) => [
          role,
          ends.map((end, index) => {
            const start = before.get(role)?.[index] as LoopFigures;
            return {
              delayP99Ms: end.delayP99Ms,
              delayMaxMs: end.delayMaxMs,
              collections: end.collections - start.collections,
              collectionMs: end.collectionMs - start.collectionMs,
            };
          }),
        ]),
      );
    },
  };
}
