import type { Redis } from "ioredis";
import type { ResponseStore, StoredResponse } from "./store.ts";

/**
 * Stored responses in Redis, shared by every ingress: `response:<tenant>:<id>` holds one response
 * as JSON with Redis's own expiry. The tenant is part of the key, so another tenant's id is simply
 * absent; it is percent-encoded, so no tenant's keys can be spelled from another's.
 */
export function createRedisResponseStore(redis: Redis, ttlMs: number): ResponseStore {
  const key = (tenant: string, id: string) => `response:${encodeURIComponent(tenant)}:${id}`;
  return {
    async put(record) {
      const write = redis.multi().set(key(record.tenant, record.id), JSON.stringify(record), "PX", ttlMs);
      // GT: only ever lengthens an earlier response's life (one continued by a newer branch keeps its own).
      for (const id of record.earlier) write.pexpire(key(record.tenant, id), ttlMs, "GT");
      const results = await write.exec();
      const failed = results?.find(([error]) => error !== null);
      if (!results || failed) throw failed?.[0] ?? new Error("the stored response's write was discarded");
    },
    async get(tenant, ids) {
      if (ids.length === 0) return [];
      const values = await redis.mget(ids.map((id) => key(tenant, id)));
      return values.map((value: string | null) =>
        value === null ? undefined : (JSON.parse(value) as StoredResponse),
      );
    },
    async delete(tenant, id) {
      return (await redis.del(key(tenant, id))) === 1;
    },
    async close() {},
  };
}
