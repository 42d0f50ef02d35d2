import type { GovernanceRecord, KeyRecord, TeamRecord } from "../../schemas/governance-record.ts";
import type { KeyStore } from "../contracts.ts";

/**
 * The key and team log, as both stores keep it (a compacted Kafka topic, or a file): entries
 * named `key:<id>` or `team:<id>`, each a GovernanceRecord or null (a tombstone: deleted). Later
 * entries of a name replace earlier ones.
 */
export const entryName = {
  key: (id: string) => `key:${id}`,
  team: (id: string) => `team:${id}`,
};

export type Lookups = Pick<KeyStore, "keyByHash" | "key" | "team" | "keys" | "teams">;

/** The view of the log a process keeps in memory: `apply` each entry in log order. */
export interface View extends Lookups {
  /** Throws, changing nothing, when the entry's name and record disagree. */
  apply(name: string, record: GovernanceRecord | null): void;
}

export function createView(): View {
  const keys = new Map<string, KeyRecord>();
  const teams = new Map<string, TeamRecord>();
  // Hash to key id. A rotated key's old hash stays indexed until the record changes again;
  // keyByHash honours it only until its expiry.
  const byHash = new Map<string, string>();
  const byPreviousHash = new Map<string, string>();

  const unindex = (key: KeyRecord) => {
    if (byHash.get(key.hash) === key.id) byHash.delete(key.hash);
    if (key.previousHash !== null && byPreviousHash.get(key.previousHash) === key.id) {
      byPreviousHash.delete(key.previousHash);
    }
  };

  return {
    apply(name, record) {
      const [kind, id] = splitName(name);
      if (kind === "key") {
        const key = record?.key ?? null;
        if (record !== null && key?.id !== id) throw new Error(`entry ${name} does not hold key ${id}`);
        const previous = keys.get(id);
        if (previous !== undefined) unindex(previous);
        if (key === null) {
          keys.delete(id);
          return;
        }
        keys.set(id, deepFreeze(key));
        byHash.set(key.hash, id);
        if (key.previousHash !== null) byPreviousHash.set(key.previousHash, id);
      } else {
        const team = record?.team ?? null;
        if (record !== null && team?.id !== id) throw new Error(`entry ${name} does not hold team ${id}`);
        if (team === null) teams.delete(id);
        else teams.set(id, deepFreeze(team));
      }
    },
    keyByHash(hash) {
      const current = byHash.get(hash);
      if (current !== undefined) return keys.get(current);
      const rotated = keys.get(byPreviousHash.get(hash) ?? "");
      // A rotation without an expiry has no grace period: the old key is refused at once.
      const until = rotated?.previousHashExpiresAtMs ?? Number.NEGATIVE_INFINITY;
      return until > Date.now() ? rotated : undefined;
    },
    key: (id) => keys.get(id),
    team: (id) => teams.get(id),
    keys: () => [...keys.values()],
    teams: () => [...teams.values()],
  };
}

function splitName(name: string): ["key" | "team", string] {
  const colon = name.indexOf(":");
  const kind = name.slice(0, colon);
  if (colon < 1 || (kind !== "key" && kind !== "team")) throw new Error(`not a governance entry: ${name}`);
  return [kind, name.slice(colon + 1)];
}

/**
 * The writes of a store, given how it appends one entry to its log (resolving once its own view
 * applied it). A store applies what it decodes from its log, never its caller's object.
 */
export function writesTo(
  append: (name: string, record: GovernanceRecord | null) => Promise<void>,
): Pick<KeyStore, "putKey" | "putTeam" | "deleteTeam"> {
  return {
    putKey: (key) => append(entryName.key(key.id), { key, team: null }),
    putTeam: (team) => append(entryName.team(team.id), { key: null, team }),
    deleteTeam: (id) => append(entryName.team(id), null),
  };
}

/** Records in the view are shared by every caller: none may change them. */
function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
