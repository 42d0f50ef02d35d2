import { appendFile, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { oneAtATime, writeAtomically } from "../runtime/disk-files.ts";
import { loadResultsLog, type ResultsLog } from "./results-log.ts";
import { type BatchRecord, type BatchStore, isFinal, type Page, type StoredFile } from "./store.ts";

/** What listing needs of a batch, kept in memory so listing reads only the records it returns. */
interface Listed {
  id: string;
  keyId: string;
  createdAt: number;
}

/**
 * Batch jobs on local disk, for a gateway of one process: it alone uses `directory`, so the
 * listings, the active batches, the leases and each touched batch's results are held in memory,
 * with the disk as their durable copy. Records are replaced whole by rename, so a crash leaves the
 * old record or the new, never half of one; each batch's results are an append-only log.
 */
export async function createDiskBatchStore(directory: string): Promise<BatchStore> {
  const folders = {
    files: join(directory, "files"),
    batches: join(directory, "batches"),
    results: join(directory, "results"),
  };
  await Promise.all(Object.values(folders).map((folder) => mkdir(folder, { recursive: true })));
  const path = (folder: keyof typeof folders, id: string, extension: string) =>
    join(folders[folder], `${safeName(id)}${extension}`);

  const files = new Map<string, StoredFile>();
  for (const file of await readJsonFiles<StoredFile>(folders.files)) files.set(file.id, file);
  const batches = new Map<string, Listed>();
  const active = new Set<string>();
  const track = ({ id, keyId, createdAt, status }: BatchRecord) => {
    batches.set(id, { id, keyId, createdAt });
    if (isFinal(status)) active.delete(id);
    else active.add(id);
  };
  for (const batch of await readJsonFiles<BatchRecord>(folders.batches)) track(batch);

  // One write at a time per batch record and per results log; different batches side by side.
  const inTurn = oneAtATime();
  const saveBatch = async (batch: BatchRecord) => {
    await writeAtomically(path("batches", batch.id, ".json"), JSON.stringify(batch));
    track(batch);
  };
  const readBatch = async (id: string) =>
    JSON.parse(await readFile(path("batches", id, ".json"), "utf8")) as BatchRecord;

  const logs = new Map<string, Promise<ResultsLog>>();
  const resultsLog = (batchId: string) => {
    let log = logs.get(batchId);
    if (log === undefined) {
      log = loadResultsLog(path("results", batchId, ".jsonl"));
      logs.set(batchId, log);
      // A failed read is not remembered: the next call tries again.
      log.catch(() => logs.delete(batchId));
    }
    return log;
  };

  const leases = new Map<string, { owner: string; until: number }>();

  return {
    async putFile(file, content) {
      // Content first: until its metadata is written, a file does not exist.
      await writeFile(path("files", file.id, ".bin"), content);
      await writeAtomically(path("files", file.id, ".json"), JSON.stringify(file));
      files.set(file.id, { ...file });
    },
    async getFile(id) {
      const file = files.get(id);
      return file && { ...file };
    },
    async fileContent(id) {
      return files.has(id) ? readFile(path("files", id, ".bin")) : undefined;
    },
    async deleteFile(id) {
      if (!files.delete(id)) return false;
      // Metadata first: a crash in between leaves unreachable content, not a file without content.
      await rm(path("files", id, ".json"), { force: true });
      await rm(path("files", id, ".bin"), { force: true });
      return true;
    },
    async listFiles(keyId, { purpose, ...page }) {
      const own = [...files.values()].filter(
        (file) => file.keyId === keyId && (purpose === undefined || file.purpose === purpose),
      );
      return pageOf(own, page).map((file) => ({ ...file }));
    },

    async createBatch(batch) {
      await inTurn(batch.id, async () => {
        if (batches.has(batch.id)) throw new Error(`batch ${batch.id} exists already`);
        await saveBatch(batch);
      });
    },
    async getBatch(id) {
      return batches.has(id) ? readBatch(id) : undefined;
    },
    async listBatches(keyId, page) {
      const own = [...batches.values()].filter((batch) => batch.keyId === keyId);
      return Promise.all(pageOf(own, page).map((batch) => readBatch(batch.id)));
    },
    updateBatch(id, change) {
      return inTurn(id, async () => {
        if (!batches.has(id)) return undefined;
        const current = await readBatch(id);
        const changed = change(current);
        if (changed === undefined) return current;
        await saveBatch(changed);
        return changed;
      });
    },
    async activeBatches() {
      return [...active];
    },

    putResult(batchId, line, result) {
      return inTurn(`results ${batchId}`, async () => {
        const log = await resultsLog(batchId);
        if (log.byLine.has(line)) return false;
        await appendFile(path("results", batchId, ".jsonl"), `${JSON.stringify({ line, result })}\n`);
        log.add(line, result);
        return true;
      });
    },
    async results(batchId) {
      const { byLine } = await resultsLog(batchId);
      return new Map([...byLine].sort(([a], [b]) => a - b));
    },
    async counts(batchId) {
      return { ...(await resultsLog(batchId)).counts };
    },
    deleteResults(batchId) {
      return inTurn(`results ${batchId}`, async () => {
        await rm(path("results", batchId, ".jsonl"), { force: true });
        logs.delete(batchId);
      });
    },

    async lease(batchId, owner, ttlMs) {
      const now = Date.now();
      const held = leases.get(batchId);
      if (held !== undefined && held.owner !== owner && held.until > now) return false;
      leases.set(batchId, { owner, until: now + ttlMs });
      return true;
    },
    async close() {
      await inTurn.settled();
    },
  };
}

/** Newest first (by createdAt, then id), those after the entry `after` when given: none if it is not among them. */
function pageOf<Entry extends Listed>(entries: Entry[], { after, limit }: Page): Entry[] {
  entries.sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  if (after === undefined) return entries.slice(0, limit);
  const at = entries.findIndex((entry) => entry.id === after);
  return at === -1 ? [] : entries.slice(at + 1, at + 1 + limit);
}

async function readJsonFiles<T>(folder: string): Promise<T[]> {
  const names = (await readdir(folder)).filter((name) => name.endsWith(".json"));
  return Promise.all(names.map(async (name) => JSON.parse(await readFile(join(folder, name), "utf8")) as T));
}

/** Ids come from API paths: one that is not a plain name must not reach outside the directory. */
function safeName(id: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(id)) throw new Error(`not a file or batch id: ${JSON.stringify(id)}`);
  return id;
}
