import { scopeMatcher } from "./key.ts";
import type { AnswerStore, CachedAnswer } from "./store.ts";

/** Answers in this process: at most `maxEntries`, the least recently used evicted first. */
export function createMemoryAnswerStore(maxEntries: number): AnswerStore {
  // A Map iterates in insertion order: re-inserting on each read keeps it in order of use.
  const entries = new Map<string, { answer: CachedAnswer; expiresAtMs: number }>();
  return {
    async get(key) {
      const entry = entries.get(key);
      if (!entry) return undefined;
      entries.delete(key);
      if (entry.expiresAtMs <= Date.now()) return undefined;
      entries.set(key, entry);
      return entry.answer;
    },
    async set(key, answer, ttlMs) {
      entries.delete(key);
      entries.set(key, { answer, expiresAtMs: Date.now() + ttlMs });
      while (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
    },
    async purge(scope) {
      const matches = scopeMatcher(scope);
      let purged = 0;
      for (const key of [...entries.keys()]) {
        if (matches(key)) purged += entries.delete(key) ? 1 : 0;
      }
      return purged;
    },
  };
}
