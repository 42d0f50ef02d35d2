import type { ChainableCommander, Redis } from "ioredis";
import {
  type BatchRecord,
  type BatchStore,
  isFinal,
  type LineOutcome,
  type LineResult,
  noCounts,
  type Page,
  type StoredFile,
} from "./store.ts";

/*
 * Keys: `file:<id>` content, `file:<id>:meta` its StoredFile; `batch:<id>` the record as JSON and
 * `batch:<id>:rev` how often it was written; `batch:<id>:results` line → result and
 * `batch:<id>:counts` outcome → lines; `batch:<id>:lease` the coordinator holding it;
 * `batches:active` the ids not in a final status. Listings are sorted sets scored by createdAt:
 * `files:<keyId>`, `files:<keyId>:<purpose>`, `batches:<keyId>` and `batches:all` (every key's, for
 * the admin API); among equal scores Redis orders by id, so (createdAt, id) orders every listing,
 * newest first.
 */

// A page of a listing, newest first, after the member ARGV[1] ('' for the first page): none if it
// is not a member. One script, so entries added meanwhile cannot shift the page.
// KEYS: the listing. ARGV: after, limit.
const pageScript = `
local from = 0
if ARGV[1] ~= '' then
  local rank = redis.call('ZREVRANK', KEYS[1], ARGV[1])
  if not rank then return {} end
  from = rank + 1
end
return redis.call('ZREVRANGE', KEYS[1], from, from + tonumber(ARGV[2]) - 1)`;

// Writes a batch record only if its revision is still the one it was read at (0: not yet created),
// and keeps the listings and the active set with it. KEYS: record, revision, the key's listing,
// the listing of all, active set. ARGV: revision read, record, id, createdAt, 1 if the status is final.
const saveScript = `
if (redis.call('GET', KEYS[2]) or '0') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('INCR', KEYS[2])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[3])
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[3])
if ARGV[5] == '1' then redis.call('SREM', KEYS[5], ARGV[3]) else redis.call('SADD', KEYS[5], ARGV[3]) end
return 1`;

// The first result of a line wins; only it is counted. KEYS: results, counts. ARGV: line, result, outcome.
const resultScript = `
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[2], ARGV[3], 1)
return 1`;

// Takes the lease if no one holds it, or renews it for its holder. KEYS: lease. ARGV: owner, ttl ms.
const leaseScript = `
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

type BatchCommands = Redis & {
  gatewayBatchPage(listing: string, after: string, limit: number): Promise<string[]>;
  gatewayBatchSave(...args: Array<string | number>): Promise<number>;
  gatewayBatchResult(
    results: string,
    counts: string,
    line: number,
    result: string,
    outcome: string,
  ): Promise<number>;
  gatewayBatchLease(lease: string, owner: string, ttlMs: number): Promise<number>;
};

const fileKey = (id: string) => `file:${id}`;
const fileMetaKey = (id: string) => `file:${id}:meta`;
const filesKey = (keyId: string, purpose?: string) =>
  purpose === undefined ? `files:${keyId}` : `files:${keyId}:${purpose}`;
const batchKey = (id: string, part?: string) => (part === undefined ? `batch:${id}` : `batch:${id}:${part}`);
const batchesKey = (keyId: string) => `batches:${keyId}`;
const allBatchesKey = "batches:all";
const activeKey = "batches:active";

/** Batch jobs in Redis, shared by every process of a deployment; each change one atomic step. */
export function createRedisBatchStore(redis: Redis): BatchStore {
  const commands = redis as BatchCommands;
  redis.defineCommand("gatewayBatchPage", { numberOfKeys: 1, lua: pageScript });
  redis.defineCommand("gatewayBatchSave", { numberOfKeys: 5, lua: saveScript });
  redis.defineCommand("gatewayBatchResult", { numberOfKeys: 2, lua: resultScript });
  redis.defineCommand("gatewayBatchLease", { numberOfKeys: 1, lua: leaseScript });
  return {
    ...redisFiles(commands),
    ...redisBatches(commands),
    ...redisResults(commands),
    // The connection is the caller's to close.
    async close() {},
  };
}

type FileMethods = Pick<BatchStore, "putFile" | "getFile" | "fileContent" | "deleteFile" | "listFiles">;

/** Input and output files: content and metadata as strings, a sorted set per key (and purpose) to list them. */
function redisFiles(redis: BatchCommands): FileMethods {
  return {
    async putFile(file, content) {
      await inOneStep(
        redis
          .multi()
          .set(fileKey(file.id), content)
          .set(fileMetaKey(file.id), JSON.stringify(file))
          .zadd(filesKey(file.keyId), file.createdAt, file.id)
          .zadd(filesKey(file.keyId, file.purpose), file.createdAt, file.id),
      );
    },
    async getFile(id) {
      const meta = await redis.get(fileMetaKey(id));
      return meta === null ? undefined : (JSON.parse(meta) as StoredFile);
    },
    async fileContent(id) {
      return (await redis.getBuffer(fileKey(id))) ?? undefined;
    },
    async deleteFile(id) {
      const meta = await redis.get(fileMetaKey(id));
      if (meta === null) return false;
      const file = JSON.parse(meta) as StoredFile;
      const [metaDeleted] = await inOneStep(
        redis
          .multi()
          .del(fileMetaKey(id))
          .del(fileKey(id))
          .zrem(filesKey(file.keyId), id)
          .zrem(filesKey(file.keyId, file.purpose), id),
      );
      // Of two deletes at once, only the one that removed the metadata deleted the file.
      return metaDeleted === 1;
    },
    async listFiles(keyId, { purpose, after, limit }) {
      if (limit <= 0) return [];
      const ids = await redis.gatewayBatchPage(filesKey(keyId, purpose), after ?? "", limit);
      if (ids.length === 0) return [];
      const metas = await redis.mget(ids.map(fileMetaKey));
      return metas.flatMap((meta) => (meta === null ? [] : [JSON.parse(meta) as StoredFile]));
    },
  };
}

type BatchMethods = Pick<
  BatchStore,
  "createBatch" | "getBatch" | "listBatches" | "listAllBatches" | "updateBatch" | "activeBatches" | "lease"
>;

/** Batch records, written only if no one wrote since they were read; a sorted set per key to list them. */
function redisBatches(redis: BatchCommands): BatchMethods {
  /** False if the record was written since `revision`. */
  const save = async (revision: string, batch: BatchRecord) =>
    (await redis.gatewayBatchSave(
      batchKey(batch.id),
      batchKey(batch.id, "rev"),
      batchesKey(batch.keyId),
      allBatchesKey,
      activeKey,
      revision,
      JSON.stringify(batch),
      batch.id,
      batch.createdAt,
      isFinal(batch.status) ? 1 : 0,
    )) === 1;
  const listed = async (listing: string, { after, limit }: Page) => {
    if (limit <= 0) return [];
    const ids = await redis.gatewayBatchPage(listing, after ?? "", limit);
    if (ids.length === 0) return [];
    const records = await redis.mget(ids.map((id) => batchKey(id)));
    return records.flatMap((record) => (record === null ? [] : [JSON.parse(record) as BatchRecord]));
  };
  return {
    async createBatch(batch) {
      if (!(await save("0", batch))) throw new Error(`batch ${batch.id} exists already`);
    },
    async getBatch(id) {
      const record = await redis.get(batchKey(id));
      return record === null ? undefined : (JSON.parse(record) as BatchRecord);
    },
    listBatches: (keyId, page) => listed(batchesKey(keyId), page),
    listAllBatches: (page) => listed(allBatchesKey, page),
    async updateBatch(id, change) {
      // Optimistic: read, change, and write only if no one wrote in between; else read again.
      for (;;) {
        const [record, revision] = await redis.mget(batchKey(id), batchKey(id, "rev"));
        if (record === null || record === undefined) return undefined;
        const current = JSON.parse(record) as BatchRecord;
        const changed = change(current);
        if (changed === undefined) return current;
        if (await save(revision ?? "0", changed)) return changed;
      }
    },
    async activeBatches() {
      return redis.smembers(activeKey);
    },
    async lease(batchId, owner, ttlMs) {
      return (await redis.gatewayBatchLease(batchKey(batchId, "lease"), owner, Math.round(ttlMs))) === 1;
    },
  };
}

type ResultMethods = Pick<BatchStore, "putResult" | "results" | "counts" | "deleteResults">;

/** Each batch's line results in a hash, their counts by outcome in another, a line's first result kept. */
function redisResults(redis: BatchCommands): ResultMethods {
  return {
    async putResult(batchId, line, result) {
      return (
        (await redis.gatewayBatchResult(
          batchKey(batchId, "results"),
          batchKey(batchId, "counts"),
          line,
          JSON.stringify(result),
          result.outcome,
        )) === 1
      );
    },
    async results(batchId) {
      const stored = await redis.hgetall(batchKey(batchId, "results"));
      return new Map(
        Object.entries(stored)
          .map(([line, result]): [number, LineResult] => [Number(line), JSON.parse(result) as LineResult])
          .sort(([a], [b]) => a - b),
      );
    },
    async counts(batchId) {
      const counts = noCounts();
      const stored = await redis.hgetall(batchKey(batchId, "counts"));
      for (const [outcome, lines] of Object.entries(stored)) counts[outcome as LineOutcome] = Number(lines);
      return counts;
    },

    async deleteResults(batchId) {
      await redis.del(batchKey(batchId, "results"), batchKey(batchId, "counts"));
    },
  };
}

/** Runs a MULTI (it needs no WATCH, so it is safe on a shared connection) and throws its first error. */
async function inOneStep(transaction: ChainableCommander): Promise<unknown[]> {
  const replies = (await transaction.exec()) ?? [];
  for (const [error] of replies) if (error) throw error;
  return replies.map(([, reply]) => reply);
}
