import { readWholeLines } from "../runtime/disk-files.ts";
import { type LineResult, noCounts, type ResultCounts } from "./store.ts";

/** A batch's results as its log holds them, first result of each line only. */
export interface ResultsLog {
  byLine: Map<number, LineResult>;
  counts: ResultCounts;
  add(line: number, result: LineResult): void;
}

/** Reads a batch's results log: one `{"line":n,"result":{...}}` per line (see readWholeLines). */
export async function loadResultsLog(path: string): Promise<ResultsLog> {
  const log: ResultsLog = {
    byLine: new Map(),
    counts: noCounts(),
    add(line, result) {
      log.byLine.set(line, result);
      log.counts[result.outcome]++;
    },
  };
  for (const text of await readWholeLines(path)) {
    const { line, result } = JSON.parse(text) as { line: number; result: LineResult };
    if (!log.byLine.has(line)) log.add(line, result);
  }
  return log;
}
