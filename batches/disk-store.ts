import { appendFile, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { oneAtATime, writeAtomically } from "../runtime/disk-files.ts";
import { loadResultsLog, type ResultsLog } from "./results-log.ts";
import {
  type BatchRecord,
  type BatchStore,
  type FilePurpose,
  isFinal,
  type LineResult,
  type Page,
  type StoredFile,
} from "./store.ts";

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
  const store = new DiskBatchStore(folders);
  for (const file of await readJsonFiles<StoredFile>(folders.files)) store.files.set(file.id, file);
  for (const batch of await readJsonFiles<BatchRecord>(folders.batches)) store.track(batch);
  return store;
}

type Folders = Record<"files" | "batches" | "results", string>;

class DiskBatchStore implements BatchStore {
  readonly files = new Map<string, StoredFile>();
  private readonly batches = new Map<string, Listed>();
  private readonly active = new Set<string>();
  private readonly leases = new Map<string, { owner: string; until: number }>();
  private readonly logs = new Map<string, Promise<ResultsLog>>();
  // One write at a time per batch record and per results log; different batches side by side.
  private readonly inTurn = oneAtATime();

  constructor(private readonly folders: Folders) {}

  async putFile(file: StoredFile, content: Buffer) {
    // Content first: until its metadata is written, a file does not exist.
    await writeFile(this.path("files", file.id, ".bin"), content);
    await writeAtomically(this.path("files", file.id, ".json"), JSON.stringify(file));
    this.files.set(file.id, { ...file });
  }

  async getFile(id: string) {
    const file = this.files.get(id);
    return file && { ...file };
  }

  async fileContent(id: string) {
    return this.files.has(id) ? readFile(this.path("files", id, ".bin")) : undefined;
  }

  async deleteFile(id: string) {
    if (!this.files.delete(id)) return false;
    // Metadata first: a crash in between leaves unreachable content, not a file without content.
    await rm(this.path("files", id, ".json"), { force: true });
    await rm(this.path("files", id, ".bin"), { force: true });
    return true;
  }

  async listFiles(keyId: string, { purpose, ...page }: Page & { purpose?: FilePurpose }) {
    const own = [...this.files.values()].filter(
      (file) => file.keyId === keyId && (purpose === undefined || file.purpose === purpose),
    );
    return pageOf(own, page).map((file) => ({ ...file }));
  }

  async createBatch(batch: BatchRecord) {
    await this.inTurn(batch.id, async () => {
      if (this.batches.has(batch.id)) throw new Error(`batch ${batch.id} exists already`);
      await this.saveBatch(batch);
    });
  }

  async getBatch(id: string) {
    return this.batches.has(id) ? this.readBatch(id) : undefined;
  }

  async listBatches(keyId: string, page: Page) {
    const own = [...this.batches.values()].filter((batch) => batch.keyId === keyId);
    return Promise.all(pageOf(own, page).map((batch) => this.readBatch(batch.id)));
  }

  async listAllBatches(page: Page) {
    return Promise.all(pageOf([...this.batches.values()], page).map((batch) => this.readBatch(batch.id)));
  }

  updateBatch(id: string, change: (current: BatchRecord) => BatchRecord | undefined) {
    return this.inTurn(id, async () => {
      if (!this.batches.has(id)) return undefined;
      const current = await this.readBatch(id);
      const changed = change(current);
      if (changed === undefined) return current;
      await this.saveBatch(changed);
      return changed;
    });
  }

  async activeBatches() {
    return [...this.active];
  }

  putResult(batchId: string, line: number, result: LineResult) {
    return this.inTurn(`results ${batchId}`, async () => {
      const log = await this.resultsLog(batchId);
      if (log.byLine.has(line)) return false;
      await appendFile(this.path("results", batchId, ".jsonl"), `${JSON.stringify({ line, result })}\n`);
      log.add(line, result);
      return true;
    });
  }

  async results(batchId: string) {
    const { byLine } = await this.resultsLog(batchId);
    return new Map([...byLine].sort(([a], [b]) => a - b));
  }

  async counts(batchId: string) {
    return { ...(await this.resultsLog(batchId)).counts };
  }

  deleteResults(batchId: string) {
    return this.inTurn(`results ${batchId}`, async () => {
      await rm(this.path("results", batchId, ".jsonl"), { force: true });
      this.logs.delete(batchId);
    });
  }

  async lease(batchId: string, owner: string, ttlMs: number) {
    const now = Date.now();
    const held = this.leases.get(batchId);
    if (held !== undefined && held.owner !== owner && held.until > now) return false;
    this.leases.set(batchId, { owner, until: now + ttlMs });
    return true;
  }

  async close() {
    await this.inTurn.settled();
  }

  /** Keeps the listing and the active set in step with a batch's record. */
  track({ id, keyId, createdAt, status }: BatchRecord) {
    this.batches.set(id, { id, keyId, createdAt });
    if (isFinal(status)) this.active.delete(id);
    else this.active.add(id);
  }

  private path(folder: keyof Folders, id: string, extension: string) {
    return join(this.folders[folder], `${safeName(id)}${extension}`);
  }

  private async saveBatch(batch: BatchRecord) {
    await writeAtomically(this.path("batches", batch.id, ".json"), JSON.stringify(batch));
    this.track(batch);
  }

  private async readBatch(id: string) {
    return JSON.parse(await readFile(this.path("batches", id, ".json"), "utf8")) as BatchRecord;
  }

  private resultsLog(batchId: string) {
    let log = this.logs.get(batchId);
    if (log === undefined) {
      log = loadResultsLog(this.path("results", batchId, ".jsonl"));
      this.logs.set(batchId, log);
      // A failed read is not remembered: the next call tries again.
      log.catch(() => this.logs.delete(batchId));
    }
    return log;
  }
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
