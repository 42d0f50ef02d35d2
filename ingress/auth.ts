import { createHash } from "node:crypto";
import type { GatewayConfig } from "../config/schema.ts";
import { GatewayError } from "../schemas/errors.ts";
import type { Priority } from "../schemas/request-envelope.ts";

export interface Caller {
  /** Non-secret id of the key: the first 12 hex digits of its SHA-256. */
  keyId: string;
  name?: string;
  priority?: Priority;
  /** May call the /admin API. */
  admin?: boolean;
}

export interface Keyring {
  /** The caller behind the request's key; throws `authentication` if there is none or it is unknown. */
  authenticate(headers: Record<string, string | string[] | undefined>): Caller;
}

export function hashKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/**
 * Keys are kept and looked up by their SHA-256 only: a lookup of a digest leaks nothing about the
 * key through its timing, and the keys themselves are never held after start.
 */
export function createKeyring(keys: GatewayConfig["auth"]["keys"], extraHashes: string[] = []): Keyring {
  const callers = new Map<string, Caller>();
  for (const hash of extraHashes) callers.set(hash, { keyId: hash.slice(0, 12) });
  for (const { key, name, priority, admin } of keys) {
    const hash = hashKey(key);
    callers.set(hash, {
      keyId: hash.slice(0, 12),
      ...(name && { name }),
      ...(priority && { priority }),
      ...(admin && { admin }),
    });
  }
  return {
    authenticate(headers) {
      const key = presentedKey(headers);
      if (!key) {
        throw new GatewayError(
          "authentication",
          "no gateway key: send it as Authorization: Bearer <key> or x-api-key: <key>",
        );
      }
      const caller = callers.get(hashKey(key));
      if (!caller) throw new GatewayError("authentication", "the gateway key is not valid");
      return caller;
    },
  };
}

function presentedKey(headers: Record<string, string | string[] | undefined>): string | undefined {
  const authorization = headers.authorization;
  if (typeof authorization === "string" && /^bearer\s+/i.test(authorization))
    return authorization.replace(/^bearer\s+/i, "").trim();
  const apiKey = headers["x-api-key"];
  return typeof apiKey === "string" && apiKey.trim() !== "" ? apiKey.trim() : undefined;
}
