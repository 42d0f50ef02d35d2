import { randomUUID } from "node:crypto";
import { open, readFile, rename, truncate, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

/**
 * Whole or not at all: a reader, or a restart after a crash, finds the old content or the new.
 * `durable` also survives a power cut (the content and the rename reach the disk before this
 * resolves), at the cost of two syncs.
 */
export async function writeAtomically(
  path: string,
  content: string,
  { durable = false } = {},
): Promise<void> {
  const temporary = `${path}.${randomUUID()}.tmp`;
  await writeFile(temporary, content, { flush: durable });
  await rename(temporary, path);
  if (durable) {
    const folder = await open(dirname(path), "r");
    await folder.sync().finally(() => folder.close());
  }
}

/**
 * The complete lines of an append-only file (none if it does not exist). A last line cut short
 * by a crash mid-append is dropped, from the file too, so that the next append starts a line of
 * its own.
 */
export async function readWholeLines(path: string): Promise<string[]> {
  const content = await readFile(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return Buffer.alloc(0);
    throw error;
  });
  const complete = content.lastIndexOf("\n") + 1;
  if (complete < content.length) await truncate(path, complete);
  return content
    .subarray(0, complete)
    .toString("utf8")
    .split("\n")
    .filter((line) => line !== "");
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
