import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { writeAtomically } from "../../runtime/disk-files.ts";
import { isResponseId, type ResponseStore, type StoredResponse } from "./store.ts";

/** A response's file: the response, and when it expires counting from its own creation. */
interface ResponseFile {
  expiresAtMs: number;
  record: StoredResponse;
}

/** How often expired responses' files are removed (a read never returns one in between). */
const sweepEveryMs = 60_000;

/**
 * Stored responses on local disk, for a gateway of one process: one file per response under a
 * folder per tenant, and in memory only when each expires. A response continued by a newer one
 * lives as long as the newest, which is known again at start by reading the files.
 */
export async function createDiskResponseStore(directory: string, ttlMs: number): Promise<ResponseStore> {
  await mkdir(directory, { recursive: true });
  const store = new DiskResponseStore(directory, ttlMs);
  const files: ResponseFile[] = [];
  for (const tenantFolder of await readdir(directory)) {
    const folder = join(directory, tenantFolder);
    for (const name of (await readdir(folder)).filter((file) => file.endsWith(".json")))
      files.push(JSON.parse(await readFile(join(folder, name), "utf8")) as ResponseFile);
  }
  // Every response first, then what continuing it lengthened: files are read in no useful order.
  for (const { record, expiresAtMs } of files) store.remember(record.tenant, record.id, expiresAtMs);
  for (const { record, expiresAtMs } of files) store.lengthenEarlier(record, expiresAtMs);
  await store.sweep();
  return store;
}

class DiskResponseStore implements ResponseStore {
  /** Expiry (Unix ms) by `<tenant folder>/<id>`. */
  private readonly expiries = new Map<string, number>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly directory: string,
    private readonly ttlMs: number,
  ) {
    this.sweeper = setInterval(() => void this.sweep().catch(() => {}), Math.min(ttlMs, sweepEveryMs));
    this.sweeper.unref();
  }

  async put(record: StoredResponse) {
    const expiresAtMs = Date.now() + this.ttlMs;
    await mkdir(join(this.directory, folderOf(record.tenant)), { recursive: true });
    const file: ResponseFile = { expiresAtMs, record };
    await writeAtomically(this.path(record.tenant, record.id), JSON.stringify(file));
    this.remember(record.tenant, record.id, expiresAtMs);
    this.lengthenEarlier(record, expiresAtMs);
  }

  async get(tenant: string, ids: readonly string[]) {
    const now = Date.now();
    return Promise.all(
      ids.map(async (id) => {
        if (!isResponseId(id)) return undefined;
        const expiresAtMs = this.expiries.get(this.entry(tenant, id));
        if (expiresAtMs === undefined || expiresAtMs <= now) return undefined;
        const file = await readFile(this.path(tenant, id), "utf8").catch(() => undefined);
        return file === undefined ? undefined : (JSON.parse(file) as ResponseFile).record;
      }),
    );
  }

  async delete(tenant: string, id: string) {
    if (!isResponseId(id)) return false;
    const entry = this.entry(tenant, id);
    const expiresAtMs = this.expiries.get(entry);
    if (expiresAtMs === undefined) return false;
    this.expiries.delete(entry);
    await rm(this.path(tenant, id), { force: true });
    return expiresAtMs > Date.now();
  }

  async close() {
    clearInterval(this.sweeper);
  }

  remember(tenant: string, id: string, expiresAtMs: number) {
    this.expiries.set(this.entry(tenant, id), expiresAtMs);
  }

  /** Keeps the earlier responses of a conversation (those still kept) at least until `expiresAtMs`. */
  lengthenEarlier(record: StoredResponse, expiresAtMs: number) {
    for (const id of record.earlier) {
      const entry = this.entry(record.tenant, id);
      const known = this.expiries.get(entry);
      if (known !== undefined && known < expiresAtMs) this.expiries.set(entry, expiresAtMs);
    }
  }

  async sweep() {
    const now = Date.now();
    for (const [entry, expiresAtMs] of this.expiries) {
      if (expiresAtMs > now) continue;
      this.expiries.delete(entry);
      await rm(join(this.directory, `${entry}.json`), { force: true });
    }
  }

  private entry(tenant: string, id: string) {
    return `${folderOf(tenant)}/${id}`;
  }

  private path(tenant: string, id: string) {
    return join(this.directory, `${this.entry(tenant, id)}.json`);
  }
}

/** A tenant's folder: percent-encoded, so no tenant's name reaches outside the directory or into another's. */
function folderOf(tenant: string): string {
  return encodeURIComponent(tenant);
}
