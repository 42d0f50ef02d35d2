import { randomUUID } from "node:crypto";
import { readFile, rename, truncate, writeFile } from "node:fs/promises";
import { type LineResult, noCounts, type ResultCounts } from "./store.ts";

/** Whole or not at all: a reader, or a restart after a crash, finds the old content or the new. */
export async function writeAtomically(path: string, content: string): Promise<void> {
  const temporary = `${path}.${randomUUID()}.tmp`;
  await writeFile(temporary, content);
  await rename(temporary, path);
}

export interface InTurn {
  <T>(key: string, task: () => Promise<T>): Promise<T>;
  /** Resolves once every task started so far has ended. */
  settled(): Promise<void>;
}

/** Runs the tasks of one key one after another, in call order, and those of different keys side by side. */
export function oneAtATime(): InTurn {
  // Each key's last task, as a promise that never rejects: a failed task does not stop the next.
  const tails = new Map<string, Promise<void>>();
  const inTurn = <T>(key: string, task: () => Promise<T>): Promise<T> => {
    const run = (tails.get(key) ?? Promise.resolve()).then(task);
    const tail = run.then(
      () => {},
      () => {},
    );
    tails.set(key, tail);
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key);
    });
    return run;
  };
  return Object.assign(inTurn, {
    async settled() {
      await Promise.all(tails.values());
    },
  });
}

/** A batch's results as its log holds them, first result of each line only. */
export interface ResultsLog {
  byLine: Map<number, LineResult>;
  counts: ResultCounts;
  add(line: number, result: LineResult): void;
}

/**
 * Reads a batch's results log: one `{"line":n,"result":{...}}` per line. A last line cut short by
 * a crash mid-append is dropped, from the file too, so that the next append starts a line of its own.
 */
export async function loadResultsLog(path: string): Promise<ResultsLog> {
  const log: ResultsLog = {
    byLine: new Map(),
    counts: noCounts(),
    add(line, result) {
      log.byLine.set(line, result);
      log.counts[result.outcome]++;
    },
  };
  const content = await readFile(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return Buffer.alloc(0);
    throw error;
  });
  const complete = content.lastIndexOf("\n") + 1;
  if (complete < content.length) await truncate(path, complete);
  for (const text of content.subarray(0, complete).toString("utf8").split("\n")) {
    if (text === "") continue;
    const { line, result } = JSON.parse(text) as { line: number; result: LineResult };
    if (!log.byLine.has(line)) log.add(line, result);
  }
  return log;
}
