import { hash } from "node:crypto";
import type { GatewayConfig } from "../../config/schema.ts";
import { GatewayError } from "../../schemas/errors.ts";
import type { KeyRecord, TeamRecord } from "../../schemas/governance-record.ts";
import type { Priority } from "../../schemas/request-envelope.ts";
import type { KeyStore } from "../contracts.ts";

export interface Caller {
  /** Non-secret id of the key: a virtual key's id, or the first 12 hex digits of a configured key's SHA-256. */
  keyId: string;
  name?: string;
  priority?: Priority;
  /** May call the /admin API: the master key, or a configured key with `admin: true`. */
  admin?: boolean;
  team?: string;
  user?: string;
  /** Cost-attribution tags of the key and its team; a request's own tags never override them. */
  tags?: Record<string, string>;
  /** A virtual key's record and its team's, as they were when the request arrived: its policy. */
  grant?: { key: KeyRecord; team: TeamRecord };
}

export interface Keyring {
  /** The caller behind a presented key; throws `authentication` if there is none or it is not valid now. */
  authenticate(key: string | undefined): Caller;
  /**
   * The caller of a key known by its id and the start of its SHA-256 (a dashboard session carries
   * those, never the key), if that key is still valid now and still the same secret (a rotation
   * ends its sessions once its grace period is over); throws `authentication` otherwise.
   */
  callerById(keyId: string, hashPrefix: string): Caller;
}

/** A key's SHA-256 in hex, on every request: one-shot `hash` takes half the CPU of a `createHash` object. */
export function hashKey(key: string): string {
  return hash("sha256", key, "hex");
}

export interface KeyringOptions {
  /** Keys from the configuration (GATEWAY_KEYS). */
  keys: GatewayConfig["auth"]["keys"];
  /** The admin API's key (GATEWAY_MASTER_KEY); empty: none. */
  masterKey?: string;
  /** Hashes of generated keys: admin keys, as the only key of a gateway nobody configured. */
  generatedHashes?: string[];
  /** Virtual keys issued by the admin API. */
  store?: KeyStore;
  now?: () => number;
}

/**
 * Keys are kept and looked up by their SHA-256 only: a lookup of a digest leaks nothing about the
 * key through its timing (an attacker cannot steer the digest's bytes toward a stored one), and
 * the keys themselves are never held after start.
 */
export function createKeyring(options: KeyringOptions): Keyring {
  const now = options.now ?? Date.now;
  const configured = new Map<string, Caller>();
  for (const hash of options.generatedHashes ?? [])
    configured.set(hash, { keyId: hash.slice(0, 12), name: "generated", admin: true });
  for (const { key, name, priority, admin } of options.keys) {
    const hash = hashKey(key);
    configured.set(hash, {
      keyId: hash.slice(0, 12),
      ...(name && { name }),
      ...(priority && { priority }),
      ...(admin && { admin }),
    });
  }
  if (options.masterKey) {
    const hash = hashKey(options.masterKey);
    configured.set(hash, { keyId: hash.slice(0, 12), name: "master", admin: true });
  }
  const byId = new Map([...configured].map(([hash, caller]) => [caller.keyId, { hash, caller }]));
  const ended = () =>
    new GatewayError("authentication", "the session's key is no longer valid; sign in again");
  return {
    callerById(keyId, hashPrefix) {
      const found = byId.get(keyId);
      if (found) {
        if (!found.hash.startsWith(hashPrefix)) throw ended();
        return found.caller;
      }
      const record = options.store?.key(keyId);
      if (!options.store || !record) throw ended();
      const inGrace = (record.previousHashExpiresAtMs ?? 0) > now();
      if (!record.hash.startsWith(hashPrefix) && !(inGrace && record.previousHash?.startsWith(hashPrefix)))
        throw ended();
      return virtualCaller(record, options.store, now());
    },
    authenticate(key) {
      if (!key) {
        throw new GatewayError(
          "authentication",
          "no gateway key: send it as Authorization: Bearer <key> or x-api-key: <key>",
        );
      }
      const hash = hashKey(key);
      const found = configured.get(hash);
      if (found) return found;
      const store = options.store;
      const record = store?.keyByHash(hash);
      if (!store || !record) throw new GatewayError("authentication", "the gateway key is not valid");
      // The store finds a rotated key's old hash only within its grace period.
      return virtualCaller(record, store, now());
    },
  };
}

/** A virtual key's caller, if the key is usable now: not revoked, not expired, its team active. */
export function virtualCaller(key: KeyRecord, store: KeyStore, nowMs: number): Caller {
  if (key.revokedAtMs !== null && key.revokedAtMs <= nowMs)
    throw new GatewayError("authentication", "the gateway key was revoked");
  if (key.expiresAtMs !== null && key.expiresAtMs <= nowMs)
    throw new GatewayError(
      "authentication",
      `the gateway key expired at ${new Date(key.expiresAtMs).toISOString()}`,
    );
  const team = store.team(key.team);
  if (!team) throw new GatewayError("permission", `the key's team ${key.team} no longer exists`);
  if (team.disabled) throw new GatewayError("permission", `the key's team ${key.team} is disabled`);
  return grantedCaller(key, team);
}

/** The caller a virtual key and its team make, whatever their state (e.g. to settle what a call cost). */
export function grantedCaller(key: KeyRecord, team: TeamRecord): Caller {
  return {
    keyId: key.id,
    ...(key.name !== null && { name: key.name }),
    ...(key.priority !== null && { priority: key.priority }),
    team: key.team,
    ...(key.user !== null && { user: key.user }),
    tags: { ...team.tags, ...key.tags },
    grant: { key, team },
  };
}
