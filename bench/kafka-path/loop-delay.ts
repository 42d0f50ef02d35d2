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
  /** Young-generation collections (V8's scavenges, prom-client's kind "minor"): how many, their pauses in all (ms). */
  minorCollections: number;
  minorCollectionMs: number;
  /** Every other kind (mark-sweep-compact, incremental marking, weak callbacks): how many, their pauses (ms). */
  otherCollections: number;
  otherCollectionMs: number;
}

async function scrape(url: string): Promise<LoopFigures> {
  const text = await (await fetch(new URL("/metrics", url))).text();
  const lines = text.split("\n");
  const sumOf = (name: string, kept: (line: string) => boolean = () => true) =>
    lines
      .filter((line) => line.startsWith(name) && kept(line))
      .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(" ") + 1)), 0);
  const minor = (line: string) => line.includes('kind="minor"');
  const other = (line: string) => !minor(line);
  return {
    delayP99Ms: lateBy(sumOf("gateway_nodejs_eventloop_lag_p99_seconds")),
    delayMaxMs: lateBy(sumOf("gateway_nodejs_eventloop_lag_max_seconds")),
    minorCollections: sumOf("gateway_nodejs_gc_duration_seconds_count", minor),
    minorCollectionMs: sumOf("gateway_nodejs_gc_duration_seconds_sum", minor) * 1000,
    otherCollections: sumOf("gateway_nodejs_gc_duration_seconds_count", other),
    otherCollectionMs: sumOf("gateway_nodejs_gc_duration_seconds_sum", other) * 1000,
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
              minorCollections: end.minorCollections - start.minorCollections,
              minorCollectionMs: end.minorCollectionMs - start.minorCollectionMs,
              otherCollections: end.otherCollections - start.otherCollections,
              otherCollectionMs: end.otherCollectionMs - start.otherCollectionMs,
            };
          }),
        ]),
      );
    },
  };
}
