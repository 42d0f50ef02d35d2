import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { createDiskResponseStore } from "../../calls/stored-responses/disk-store.ts";
import { createRedisResponseStore } from "../../calls/stored-responses/redis-store.ts";
import type { StoredResponse } from "../../calls/stored-responses/store.ts";
import { connectRedis } from "../../runtime/redis.ts";
import { eventually } from "../support/eventually.ts";
import { testConfig } from "../support/gateway.ts";

const dayMs = 86_400_000;

function response(tenant: string, earlier: string[] = []): StoredResponse {
  const id = `resp_${randomBytes(16).toString("hex")}`;
  return {
    id,
    tenant,
    response: { id, object: "response", output: [{ id: `msg_${id}`, type: "message" }] },
    input: [{ id: `in_${id}`, type: "message" }],
    earlier,
  };
}

/**
 * The two stores of stored responses: Redis, shared by every ingress (two stores on one Redis are
 * two ingresses), and disk, the embedded default, which keeps its responses across a restart.
 */
describe("the response stores", () => {
  const connections: Redis[] = [];
  const folders: string[] = [];
  afterAll(() => {
    for (const redis of connections) redis.disconnect();
    for (const folder of folders) rmSync(folder, { recursive: true, force: true });
  });
  /** Stores on connections of their own to one Redis, with the same key prefix: as ingresses of one deployment. */
  const redisStores = async (ttlsMs: [number, number]) => {
    const config = testConfig("kafka").redis;
    const [a, b] = await Promise.all([connectRedis(config), connectRedis(config)]);
    connections.push(a, b);
    return [createRedisResponseStore(a, ttlsMs[0]), createRedisResponseStore(b, ttlsMs[1])] as const;
  };
  const folder = () => {
    const made = mkdtempSync(join(tmpdir(), "response-store-"));
    folders.push(made);
    return made;
  };

  it("Redis: what one ingress stores, another reads and deletes; never across tenants", async () => {
    const [one, two] = await redisStores([dayMs, dayMs]);
    const tenant = `team:${randomUUID()}`;
    const first = response(tenant);
    await one.put(first);
    expect(await two.get(tenant, [first.id, "resp_unknown"])).toEqual([first, undefined]);
    expect(await two.get(`key:${randomUUID()}`, [first.id])).toEqual([undefined]);
    expect(await two.delete(`key:${randomUUID()}`, first.id)).toBe(false);
    expect(await two.delete(tenant, first.id)).toBe(true);
    expect(await one.get(tenant, [first.id])).toEqual([undefined]);
  });

  it("Redis: a response continued later keeps its conversation's earlier responses alive as long", async () => {
    const [short, long] = await redisStores([10_000, dayMs]);
    const tenant = `team:${randomUUID()}`;
    const first = response(tenant);
    await short.put(first);
    const second = response(tenant, [first.id]);
    await long.put(second);
    const redis = connections.at(-1);
    const ttl = await redis?.pttl(`response:${encodeURIComponent(tenant)}:${first.id}`);
    expect(ttl).toBeGreaterThan(10_000);
  });

  it("disk: keeps responses across a restart, and forgets them once expired", async () => {
    const directory = folder();
    const tenant = "key:abc";
    const before = await createDiskResponseStore(directory, dayMs);
    const first = response(tenant);
    const second = response(tenant, [first.id]);
    await before.put(first);
    await before.put(second);
    await before.close();
    const after = await createDiskResponseStore(directory, dayMs);
    expect(await after.get(tenant, [first.id, second.id])).toEqual([first, second]);
    expect(await after.get("key:other", [first.id])).toEqual([undefined]);
    expect(await after.delete(tenant, first.id)).toBe(true);
    await after.close();
    const again = await createDiskResponseStore(directory, dayMs);
    expect(await again.get(tenant, [first.id, second.id])).toEqual([undefined, second]);
    await again.close();

    const brief = await createDiskResponseStore(folder(), 200);
    const gone = response(tenant);
    await brief.put(gone);
    await eventually(async () => expect(await brief.get(tenant, [gone.id])).toEqual([undefined]));
    await brief.close();
  });

  it("disk: an earlier response lives as long as the newest one continuing it, after a restart too", async () => {
    const directory = folder();
    const tenant = "team:long";
    const short = await createDiskResponseStore(directory, 3000);
    const first = response(tenant);
    const expiresAtMs = Date.now() + 3000;
    await short.put(first);
    await short.close();
    const long = await createDiskResponseStore(directory, dayMs);
    await long.put(response(tenant, [first.id]));
    await long.close();
    // Well past the first one's own expiry, read from disk by a new start.
    await new Promise((resolve) => setTimeout(resolve, expiresAtMs + 200 - Date.now()));
    const restarted = await createDiskResponseStore(directory, dayMs);
    expect(await restarted.get(tenant, [first.id])).toEqual([first]);
    await restarted.close();
  });
});
