import { randomBytes, randomUUID } from "node:crypto";
import { appendFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { afterAll, describe, expect, inject, it } from "vitest";
import { createDiskBatchStore } from "../../batches/disk-store.ts";
import { createRedisBatchStore } from "../../batches/redis-store.ts";
import type { BatchRecord, BatchStore, LineOutcome, LineResult, StoredFile } from "../../batches/store.ts";

const runPrefix = `test-batch-${randomUUID()}`;
const connections: Redis[] = [];
const directories: string[] = [];

afterAll(async () => {
  const cleaner = new Redis(inject("services").redis.url);
  let cursor = "0";
  do {
    const [next, found] = await cleaner.scan(cursor, "MATCH", `${runPrefix}:*`, "COUNT", 500);
    cursor = next;
    if (found.length > 0) await cleaner.del(...found);
  } while (cursor !== "0");
  await Promise.all([cleaner, ...connections].map((redis) => redis.quit()));
  await Promise.all(directories.map((directory) => rm(directory, { recursive: true, force: true })));
});

async function temporaryDirectory(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), "batch-store-"));
  directories.push(directory);
  return directory;
}

/** Two stores standing for two processes (on disk: the one store of the one process), empty. */
const kinds: Array<[string, () => Promise<[BatchStore, BatchStore]>]> = [
  [
    "disk",
    async () => {
      const store = await createDiskBatchStore(await temporaryDirectory());
      return [store, store];
    },
  ],
  [
    "Redis",
    async () => {
      const keyPrefix = `${runPrefix}:${randomUUID()}:`;
      const [a, b] = [0, 1].map(() => new Redis(inject("services").redis.url, { keyPrefix }));
      connections.push(a as Redis, b as Redis);
      return [createRedisBatchStore(a as Redis), createRedisBatchStore(b as Redis)];
    },
  ],
];

const randomId = (prefix: string) => `${prefix}${randomBytes(18).toString("base64url")}`;

function storedFile(keyId: string, changes: Partial<StoredFile> = {}): StoredFile {
  return {
    id: randomId("file-"),
    keyId,
    filename: "input.jsonl",
    purpose: "batch",
    bytes: 0,
    createdAt: 1_700_000_000,
    expiresAt: null,
    ...changes,
  };
}

function batchRecord(keyId: string, changes: Partial<BatchRecord> = {}): BatchRecord {
  return {
    id: randomId("batch_"),
    api: "openai",
    keyId,
    keyName: null,
    tags: {},
    endpoint: "/v1/chat/completions",
    inputFileId: randomId("file-"),
    completionWindow: "24h",
    metadata: null,
    status: "validating",
    total: 100,
    fed: 0,
    errors: [],
    outputFileId: null,
    errorFileId: null,
    createdAt: 1_700_000_000,
    expiresAt: 1_700_086_400,
    inProgressAt: null,
    finalizingAt: null,
    completedAt: null,
    failedAt: null,
    expiredAt: null,
    cancellingAt: null,
    cancelledAt: null,
    ...changes,
  };
}

function lineResult(outcome: LineOutcome, requestId = randomUUID()): LineResult {
  return outcome === "failed"
    ? {
        outcome,
        requestId,
        answeredAt: 1_700_000_100,
        error: { code: "server_error", message: "upstream failed", status: 502, param: null },
      }
    : { outcome, requestId, answeredAt: 1_700_000_100 };
}

/** Every page of a listing, following `after` from page to page. */
async function allPages<Item extends { id: string }>(
  list: (after: string | undefined) => Promise<Item[]>,
): Promise<Item[][]> {
  const pages: Item[][] = [];
  for (let after: string | undefined; ; ) {
    const page = await list(after);
    if (page.length === 0) return pages;
    pages.push(page);
    after = page.at(-1)?.id;
  }
}

describe.each(kinds)("batch store (%s)", (_kind, create) => {
  it("keeps a file's metadata and binary content until it is deleted", async () => {
    const [store] = await create();
    const content = randomBytes(3 * 1024 * 1024);
    const file = storedFile("key-a", { bytes: content.length, expiresAt: 1_700_003_600 });
    await store.putFile(file, content);
    expect(await store.getFile(file.id)).toEqual(file);
    expect((await store.fileContent(file.id))?.equals(content)).toBe(true);
    expect(await store.deleteFile(file.id)).toBe(true);
    expect(await store.deleteFile(file.id)).toBe(false);
    expect(await store.getFile(file.id)).toBeUndefined();
    expect(await store.fileContent(file.id)).toBeUndefined();
    expect(await store.listFiles("key-a", { limit: 10 })).toEqual([]);
  });

  it("lists a key's files newest first, page after page, by purpose when asked", async () => {
    const [store] = await create();
    // Three share a createdAt: the id orders them, and `after` must still step past each.
    const files = [0, 1, 1, 1, 2, 3].map((age, index) =>
      storedFile("key-a", { createdAt: 1_700_000_000 - age, purpose: index % 2 ? "batch_output" : "batch" }),
    );
    const others = storedFile("key-b");
    await Promise.all([...files, others].map((file) => store.putFile(file, Buffer.from(file.id))));
    const newestFirst = [...files].sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1));

    const pages = await allPages((after) => store.listFiles("key-a", { after, limit: 4 }));
    expect(pages.map((page) => page.length)).toEqual([4, 2]);
    expect(pages.flat()).toEqual(newestFirst);

    const outputs = await allPages((after) =>
      store.listFiles("key-a", { after, limit: 2, purpose: "batch_output" }),
    );
    expect(outputs.flat()).toEqual(newestFirst.filter((file) => file.purpose === "batch_output"));
    expect(await store.listFiles("key-b", { limit: 10 })).toEqual([others]);
    expect(await store.listFiles("key-b", { limit: 10, after: files[0]?.id })).toEqual([]);
    expect(await store.listFiles("key-c", { limit: 10 })).toEqual([]);
  });

  it("creates, reads and lists batches newest first, page after page, per key", async () => {
    const [store] = await create();
    const batches = [0, 5, 5, 9].map((age) => batchRecord("key-a", { createdAt: 1_700_000_000 - age }));
    const others = batchRecord("key-b");
    for (const batch of [...batches, others]) await store.createBatch(batch);
    await expect(store.createBatch(others)).rejects.toThrow(/exists/);
    expect(await store.getBatch(others.id)).toEqual(others);
    expect(await store.getBatch("batch_missing")).toBeUndefined();

    const pages = await allPages((after) => store.listBatches("key-a", { after, limit: 3 }));
    expect(pages.map((page) => page.length)).toEqual([3, 1]);
    expect(pages.flat()).toEqual(
      [...batches].sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1)),
    );
    expect(await store.listBatches("key-b", { limit: 10 })).toEqual([others]);
  });

  it("lists every key's batches together, newest first, page after page, updates not repeating them", async () => {
    const [first, second] = await create();
    const batches = [0, 3, 3, 7, 8].map((age, index) =>
      batchRecord(`key-${index % 3}`, {
        createdAt: 1_700_000_000 - age,
        api: index % 2 ? "anthropic" : "openai",
      }),
    );
    for (const batch of batches) await first.createBatch(batch);
    await first.updateBatch(batches[1]?.id as string, (batch) => ({ ...batch, status: "completed" }));

    const pages = await allPages((after) => second.listAllBatches({ after, limit: 2 }));
    expect(pages.map((page) => page.length)).toEqual([2, 2, 1]);
    expect(pages.flat().map((batch) => batch.id)).toEqual(
      [...batches]
        .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1))
        .map((batch) => batch.id),
    );
    expect(pages.flat().find((batch) => batch.id === batches[1]?.id)?.status).toBe("completed");
    expect(await second.listAllBatches({ limit: 10, after: "batch_missing" })).toEqual([]);
  });

  it("applies concurrent updates of a batch one after another, from any process", async () => {
    const [first, second] = await create();
    const batch = batchRecord("key-a");
    await first.createBatch(batch);
    const updates = await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        (index % 2 ? first : second).updateBatch(batch.id, (current) => ({
          ...current,
          fed: current.fed + 1,
        })),
      ),
    );
    expect(updates.map((updated) => updated?.fed).sort((a = 0, b = 0) => a - b)).toEqual(
      Array.from({ length: 50 }, (_, index) => index + 1),
    );
    expect((await second.getBatch(batch.id))?.fed).toBe(50);

    expect(await first.updateBatch(batch.id, () => undefined)).toEqual({ ...batch, fed: 50 });
    expect(await first.updateBatch("batch_missing", (current) => current)).toBeUndefined();
  });

  it("knows the batches not yet in a final status", async () => {
    const [first, second] = await create();
    const running = batchRecord("key-a", { status: "in_progress" });
    const finishing = batchRecord("key-a");
    const done = batchRecord("key-a", { status: "completed" });
    for (const batch of [running, finishing, done]) await first.createBatch(batch);
    expect((await second.activeBatches()).sort()).toEqual([running.id, finishing.id].sort());

    await first.updateBatch(finishing.id, (batch) => ({ ...batch, status: "cancelling" }));
    expect((await second.activeBatches()).sort()).toEqual([running.id, finishing.id].sort());
    await first.updateBatch(finishing.id, (batch) => ({ ...batch, status: "cancelled" }));
    expect(await second.activeBatches()).toEqual([running.id]);
  });

  it("stores a line's first result only, and counts it once", async () => {
    const [first, second] = await create();
    const batchId = randomId("batch_");
    const outcomes: LineOutcome[] = ["succeeded", "failed", "cancelled"];
    const attempts = Array.from({ length: 20 }, (_, index) => lineResult(outcomes[index % 3] ?? "succeeded"));
    const stored = await Promise.all(
      attempts.map((result, index) => (index % 2 ? first : second).putResult(batchId, 7, result)),
    );
    expect(stored.filter(Boolean)).toHaveLength(1);
    const winner = attempts[stored.indexOf(true)] as LineResult;
    expect(await first.results(batchId)).toEqual(new Map([[7, winner]]));
    expect(await second.counts(batchId)).toEqual({
      succeeded: 0,
      failed: 0,
      cancelled: 0,
      [winner.outcome]: 1,
    });
  });

  it("returns every line's result, in line order, and counts each outcome", async () => {
    const [store] = await create();
    const batchId = randomId("batch_");
    const results = new Map(
      [3, 1, 2, 5, 4].map((line) => [line, lineResult(line % 2 ? "succeeded" : "failed")]),
    );
    for (const [line, result] of results) expect(await store.putResult(batchId, line, result)).toBe(true);
    expect([...(await store.results(batchId))]).toEqual([...results].sort(([a], [b]) => a - b));
    expect(await store.counts(batchId)).toEqual({ succeeded: 3, failed: 2, cancelled: 0 });
    expect(await store.results(randomId("batch_"))).toEqual(new Map());
    expect(await store.counts(randomId("batch_"))).toEqual({ succeeded: 0, failed: 0, cancelled: 0 });

    await store.deleteResults(batchId);
    expect(await store.results(batchId)).toEqual(new Map());
    expect(await store.counts(batchId)).toEqual({ succeeded: 0, failed: 0, cancelled: 0 });
  });

  it("leases a batch to one owner at a time, renews it for its owner, and lets it lapse", async () => {
    const [first, second] = await create();
    const batchId = randomId("batch_");
    expect(await first.lease(batchId, "coordinator-1", 600)).toBe(true);
    expect(await second.lease(batchId, "coordinator-2", 600)).toBe(false);
    await sleep(400);
    expect(await first.lease(batchId, "coordinator-1", 600)).toBe(true);
    await sleep(400);
    // Renewed 400 ms ago for 600 ms: still held, though the first lease would have lapsed.
    expect(await second.lease(batchId, "coordinator-2", 600)).toBe(false);
    await sleep(400);
    expect(await second.lease(batchId, "coordinator-2", 600)).toBe(true);
    expect(await first.lease(batchId, "coordinator-1", 600)).toBe(false);
  });
});

describe("batch store on disk", () => {
  it("finds everything again when reopened", async () => {
    const directory = await temporaryDirectory();
    const store = await createDiskBatchStore(directory);
    const file = storedFile("key-a", { bytes: 3 });
    await store.putFile(file, Buffer.from([0, 255, 10]));
    const deleted = storedFile("key-a");
    await store.putFile(deleted, Buffer.from("gone"));
    await store.deleteFile(deleted.id);
    const running = batchRecord("key-a", { status: "in_progress", fed: 3 });
    const done = batchRecord("key-a");
    await store.createBatch(running);
    await store.createBatch(done);
    await store.updateBatch(done.id, (batch) => ({ ...batch, status: "failed" }));
    const results = new Map([
      [1, lineResult("succeeded")],
      [2, lineResult("failed")],
    ]);
    for (const [line, result] of results) await store.putResult(running.id, line, result);
    await store.close();

    const reopened = await createDiskBatchStore(directory);
    expect(await reopened.listFiles("key-a", { limit: 10 })).toEqual([file]);
    expect(await reopened.fileContent(file.id)).toEqual(Buffer.from([0, 255, 10]));
    expect(await reopened.getBatch(running.id)).toEqual(running);
    expect((await reopened.getBatch(done.id))?.status).toBe("failed");
    expect(await reopened.activeBatches()).toEqual([running.id]);
    expect(await reopened.results(running.id)).toEqual(results);
    expect(await reopened.counts(running.id)).toEqual({ succeeded: 1, failed: 1, cancelled: 0 });
    expect(await reopened.putResult(running.id, 2, lineResult("succeeded"))).toBe(false);
  });

  it("drops a results log's last line cut short by a crash, and appends after it cleanly", async () => {
    const directory = await temporaryDirectory();
    const store = await createDiskBatchStore(directory);
    const batchId = randomId("batch_");
    const first = lineResult("succeeded");
    await store.putResult(batchId, 1, first);
    await store.close();
    await appendFile(join(directory, "results", `${batchId}.jsonl`), '{"line":2,"result":{"outc');

    const reopened = await createDiskBatchStore(directory);
    expect(await reopened.results(batchId)).toEqual(new Map([[1, first]]));
    const second = lineResult("cancelled");
    expect(await reopened.putResult(batchId, 2, second)).toBe(true);
    await reopened.close();

    const again = await createDiskBatchStore(directory);
    expect(await again.results(batchId)).toEqual(
      new Map([
        [1, first],
        [2, second],
      ]),
    );
    expect(await again.counts(batchId)).toEqual({ succeeded: 1, failed: 0, cancelled: 1 });
  });
});
