import { randomBytes } from "node:crypto";
import { GatewayError } from "../../schemas/errors.ts";
import type { KeyRecord, TeamRecord } from "../../schemas/governance-record.ts";
import type { KeyStore } from "../contracts.ts";
import type { KeyChanges, NewKey, NewTeam, TeamChanges } from "./admin-schema.ts";
import { hashKey } from "./keyring.ts";

/** A key as the admin API shows it: never its hash. */
export type ListedKey = Omit<KeyRecord, "hash" | "previousHash">;

/** A key just made or rotated: the only time the key itself is returned. */
export interface IssuedKey {
  key: string;
  record: ListedKey;
}

/**
 * What the admin API does to keys and teams, whoever calls it (HTTP, CLI through HTTP). Rules
 * that keep a key within its team: a key's models must be among its team's, a team with keys is
 * not deleted, and a key's team never changes (a new key is issued instead).
 */
export class KeyAdmin {
  constructor(
    private readonly store: KeyStore,
    private readonly now: () => number = Date.now,
  ) {}

  async createTeam(input: NewTeam): Promise<TeamRecord> {
    if (this.store.team(input.id))
      throw new GatewayError("invalid_request", `team ${input.id} exists already`, { status: 409 });
    const at = this.now();
    const team: TeamRecord = {
      id: input.id,
      name: input.name ?? input.id,
      models: input.models ?? null,
      budget: input.budget ? budgetOf(input.budget) : null,
      rateLimits: input.rateLimits ? rateLimitsOf(input.rateLimits) : null,
      tags: input.tags ?? {},
      metadata: input.metadata ?? {},
      createdAtMs: at,
      updatedAtMs: at,
      disabled: false,
    };
    await this.store.putTeam(team);
    return team;
  }

  async updateTeam(id: string, changes: TeamChanges): Promise<TeamRecord> {
    const team = this.team(id);
    const models = changes.models === undefined ? team.models : changes.models;
    if (models) {
      const outside = this.store.keys().filter((key) => key.team === id && !withinTeam(key.models, models));
      if (outside.length > 0)
        throw new GatewayError(
          "invalid_request",
          `keys ${outside.map((key) => key.id).join(", ")} may call models outside that list; change them first`,
          { param: "models" },
        );
    }
    const updated: TeamRecord = {
      ...team,
      ...(changes.name !== undefined && { name: changes.name }),
      models,
      ...(changes.budget !== undefined && { budget: changes.budget && budgetOf(changes.budget) }),
      ...(changes.rateLimits !== undefined && {
        rateLimits: changes.rateLimits && rateLimitsOf(changes.rateLimits),
      }),
      ...(changes.tags !== undefined && { tags: changes.tags }),
      ...(changes.metadata !== undefined && { metadata: changes.metadata }),
      ...(changes.disabled !== undefined && { disabled: changes.disabled }),
      updatedAtMs: this.now(),
    };
    await this.store.putTeam(updated);
    return updated;
  }

  async deleteTeam(id: string): Promise<void> {
    this.team(id);
    const keys = this.store.keys().filter((key) => key.team === id && key.revokedAtMs === null);
    if (keys.length > 0)
      throw new GatewayError(
        "invalid_request",
        `team ${id} still has ${keys.length} live keys; revoke them first`,
        {
          status: 409,
        },
      );
    await this.store.deleteTeam(id);
  }

  async createKey(input: NewKey): Promise<IssuedKey> {
    const team = this.store.team(input.team);
    // A first key before any team is the usual first step: say which one comes before it.
    if (!team)
      throw new GatewayError(
        "not_found",
        `no team ${input.team}: create it first (POST /admin/teams, or \`ai-gateway teams create ${input.team}\`)`,
        { status: 404, param: "team" },
      );
    if (!withinTeam(input.models ?? null, team.models))
      throw new GatewayError("invalid_request", `models: the key may only call models of team ${team.id}`, {
        param: "models",
      });
    const secret = newSecret();
    const at = this.now();
    let id = newKeyId();
    while (this.store.key(id)) id = newKeyId();
    const record: KeyRecord = {
      id,
      hash: secret.hash,
      prefix: secret.prefix,
      name: input.name ?? null,
      team: team.id,
      user: input.user ?? null,
      models: input.models ?? null,
      apis: input.apis ?? null,
      priority: input.priority ?? null,
      tags: input.tags ?? {},
      metadata: input.metadata ?? {},
      budget: input.budget ? budgetOf(input.budget) : null,
      rateLimits: input.rateLimits ? rateLimitsOf(input.rateLimits) : null,
      limits: input.limits ? limitsOf(input.limits) : null,
      expiresAtMs: input.expiresAt ? this.futureTime(input.expiresAt) : null,
      revokedAtMs: null,
      previousHash: null,
      previousHashExpiresAtMs: null,
      createdAtMs: at,
      updatedAtMs: at,
    };
    await this.store.putKey(record);
    return { key: secret.key, record: listed(record) };
  }

  async updateKey(id: string, changes: KeyChanges): Promise<ListedKey> {
    const key = this.liveKey(id);
    const models = changes.models === undefined ? key.models : changes.models;
    if (!withinTeam(models, this.team(key.team).models))
      throw new GatewayError("invalid_request", `models: the key may only call models of team ${key.team}`, {
        param: "models",
      });
    const updated: KeyRecord = {
      ...key,
      ...(changes.name !== undefined && { name: changes.name }),
      ...(changes.user !== undefined && { user: changes.user }),
      models,
      ...(changes.apis !== undefined && { apis: changes.apis }),
      ...(changes.priority !== undefined && { priority: changes.priority }),
      ...(changes.tags !== undefined && { tags: changes.tags }),
      ...(changes.metadata !== undefined && { metadata: changes.metadata }),
      ...(changes.budget !== undefined && { budget: changes.budget && budgetOf(changes.budget) }),
      ...(changes.rateLimits !== undefined && {
        rateLimits: changes.rateLimits && rateLimitsOf(changes.rateLimits),
      }),
      ...(changes.limits !== undefined && { limits: changes.limits && limitsOf(changes.limits) }),
      ...(changes.expiresAt !== undefined && {
        expiresAtMs: changes.expiresAt === null ? null : this.futureTime(changes.expiresAt),
      }),
      updatedAtMs: this.now(),
    };
    await this.store.putKey(updated);
    return listed(updated);
  }

  /** A new key for the same id, settings and spend; the old one works `graceMs` longer (0: stops now). */
  async rotateKey(id: string, graceMs: number): Promise<IssuedKey> {
    const key = this.liveKey(id);
    const secret = newSecret();
    const at = this.now();
    const updated: KeyRecord = {
      ...key,
      hash: secret.hash,
      prefix: secret.prefix,
      previousHash: graceMs > 0 ? key.hash : null,
      previousHashExpiresAtMs: graceMs > 0 ? at + graceMs : null,
      updatedAtMs: at,
    };
    await this.store.putKey(updated);
    return { key: secret.key, record: listed(updated) };
  }

  async revokeKey(id: string): Promise<ListedKey> {
    const key = this.liveKey(id);
    const at = this.now();
    const revoked: KeyRecord = { ...key, revokedAtMs: at, previousHashExpiresAtMs: null, updatedAtMs: at };
    await this.store.putKey(revoked);
    return listed(revoked);
  }

  key(id: string): ListedKey {
    const key = this.store.key(id);
    if (!key) throw new GatewayError("not_found", `no key ${id}`, { status: 404 });
    return listed(key);
  }

  keys(team?: string): ListedKey[] {
    return this.store
      .keys()
      .filter((key) => team === undefined || key.team === team)
      .sort((a, b) => a.createdAtMs - b.createdAtMs)
      .map(listed);
  }

  team(id: string): TeamRecord {
    const team = this.store.team(id);
    if (!team) throw new GatewayError("not_found", `no team ${id}`, { status: 404 });
    return team;
  }

  teams(): TeamRecord[] {
    return this.store.teams().sort((a, b) => a.createdAtMs - b.createdAtMs);
  }

  /** A key that may still change: a revoked key stays revoked. */
  private liveKey(id: string): KeyRecord {
    const key = this.store.key(id);
    if (!key) throw new GatewayError("not_found", `no key ${id}`, { status: 404 });
    if (key.revokedAtMs !== null)
      throw new GatewayError("invalid_request", `key ${id} is revoked`, { status: 409 });
    return key;
  }

  private futureTime(iso: string): number {
    const at = Date.parse(iso);
    if (Number.isNaN(at))
      throw new GatewayError("invalid_request", `expiresAt: ${iso} is not a time`, { param: "expiresAt" });
    if (at <= this.now())
      throw new GatewayError("invalid_request", "expiresAt: the time has passed", { param: "expiresAt" });
    return at;
  }
}

/** Whether every model a key names is one its team may call (a key naming none has its team's). */
export function withinTeam(keyModels: string[] | null, teamModels: string[] | null): boolean {
  if (teamModels === null || keyModels === null) return true;
  return keyModels.every((model) => teamModels.some((allowed) => covers(allowed, model)));
}

/** Whether a model pattern (a name, or a prefix ending in *) covers a name or a narrower pattern. */
export function covers(pattern: string, model: string): boolean {
  if (!pattern.endsWith("*")) return pattern === model;
  return model.startsWith(pattern.slice(0, -1));
}

function listed({ hash: _hash, previousHash: _previous, ...shown }: KeyRecord): ListedKey {
  return shown;
}

/** 32 random bytes: guessing is hopeless, so one SHA-256 (no slow hash) suffices to store it. */
function newSecret(): { key: string; hash: string; prefix: string } {
  const key = `gwk-${randomBytes(32).toString("base64url")}`;
  return { key, hash: hashKey(key), prefix: key.slice(0, 10) };
}

function newKeyId(): string {
  return randomBytes(6).toString("hex");
}

const budgetOf = (budget: NonNullable<NewKey["budget"]>): NonNullable<KeyRecord["budget"]> => ({
  dailyUsd: budget.dailyUsd ?? null,
  monthlyUsd: budget.monthlyUsd ?? null,
  totalUsd: budget.totalUsd ?? null,
  softLimitPercent: budget.softLimitPercent ?? null,
});

const rateLimitsOf = (limits: NonNullable<NewKey["rateLimits"]>): NonNullable<KeyRecord["rateLimits"]> => ({
  requestsPerMinute: limits.requestsPerMinute ?? null,
  tokensPerMinute: limits.tokensPerMinute ?? null,
});

const limitsOf = (limits: NonNullable<NewKey["limits"]>): NonNullable<KeyRecord["limits"]> => ({
  maxTokens: limits.maxTokens ?? null,
  maxN: limits.maxN ?? null,
  maxConcurrentStreams: limits.maxConcurrentStreams ?? null,
});
