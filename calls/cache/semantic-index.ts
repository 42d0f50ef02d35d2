/**
 * The vectors of kept answers, per scope (a tenant and a model), for the semantic cache: the
 * nearest kept request to a new one, by cosine similarity. Each scope keeps its newest
 * `maxEntries`; the search is exhaustive over them (a few hundred vectors: well under a
 * millisecond), which needs no vector database.
 */
export interface SemanticIndex {
  nearest(scope: string, vector: number[]): Promise<{ key: string; similarity: number } | undefined>;
  add(scope: string, key: string, vector: number[], maxEntries: number): Promise<void>;
}

export function cosine(a: number[], b: number[]): number {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let index = 0; index < Math.min(a.length, b.length); index++) {
    const x = a[index] as number;
    const y = b[index] as number;
    dot += x * y;
    normA += x * x;
    normB += y * y;
  }
  return normA === 0 || normB === 0 ? 0 : dot / Math.sqrt(normA * normB);
}

export function nearestOf(
  vector: number[],
  entries: Iterable<[string, number[]]>,
): { key: string; similarity: number } | undefined {
  let best: { key: string; similarity: number } | undefined;
  for (const [key, candidate] of entries) {
    const similarity = cosine(vector, candidate);
    if (!best || similarity > best.similarity) best = { key, similarity };
  }
  return best;
}

/** The index of a single process. */
export function createMemorySemanticIndex(): SemanticIndex {
  const scopes = new Map<string, Map<string, number[]>>();
  return {
    async nearest(scope, vector) {
      return nearestOf(vector, scopes.get(scope) ?? []);
    },
    async add(scope, key, vector, maxEntries) {
      let entries = scopes.get(scope);
      if (!entries) {
        entries = new Map();
        scopes.set(scope, entries);
      }
      entries.delete(key);
      entries.set(key, vector);
      while (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
    },
  };
}
