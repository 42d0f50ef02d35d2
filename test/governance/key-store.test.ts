import { randomBytes, randomUUID } from "node:crypto";
import { appendFile, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { createKafka } from "../../bus/kafka/client.ts";
import { governanceTopic } from "../../bus/kafka/topics.ts";
import type { GatewayConfig } from "../../config/schema.ts";
import type { KeyStore } from "../../governance/contracts.ts";
import { connectKeyStore } from "../../governance/keys/connect.ts";
import type { KeyRecord, TeamRecord } from "../../schemas/governance-record.ts";
import { eventually } from "../support/eventually.ts";
import { testConfig } from "../support/gateway.ts";

const log = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
const open: KeyStore[] = [];
const directories: string[] = [];

afterAll(async () => {
  await Promise.all(open.map((store) => store.close()));
  await Promise.all(directories.map((directory) => rm(directory, { recursive: true, force: true })));
});

async function connect(config: GatewayConfig): Promise<KeyStore> {
  const store = await connectKeyStore(config, log);
  open.push(store);
  return store;
}

/** A configuration with a log of its own: a topic of its own on Kafka, a directory of its own on disk. */
const kinds: Array<[string, () => Promise<GatewayConfig>]> = [
  [
    "disk",
    async () => {
      const directory = await mkdtemp(join(tmpdir(), "key-store-"));
      directories.push(directory);
      return testConfig("in-process", { governance: { directory } });
    },
  ],
  ["Kafka", async () => testConfig("kafka")],
];

const hash = () => randomBytes(32).toString("hex");

function keyRecord(changes: Partial<KeyRecord> = {}): KeyRecord {
  return {
    id: `key-${randomUUID()}`,
    hash: hash(),
    prefix: "sk-gw-ab",
    name: "nightly",
    team: "team-a",
    user: null,
    models: ["gpt-4o*"],
    apis: null,
    priority: "batch",
    tags: { env: "test" },
    metadata: {},
    budget: { dailyUsd: 5, monthlyUsd: null, totalUsd: null, softLimitPercent: 90 },
    rateLimits: { requestsPerMinute: 60, tokensPerMinute: null },
    limits: null,
    expiresAtMs: null,
    revokedAtMs: null,
    previousHash: null,
    previousHashExpiresAtMs: null,
    createdAtMs: 1_700_000_000_000,
    updatedAtMs: 1_700_000_000_000,
    ...changes,
  };
}

function teamRecord(changes: Partial<TeamRecord> = {}): TeamRecord {
  return {
    id: `team-${randomUUID()}`,
    name: "research",
    models: null,
    budget: null,
    rateLimits: { requestsPerMinute: null, tokensPerMinute: 100_000 },
    tags: {},
    metadata: { owner: "ops" },
    createdAtMs: 1_700_000_000_000,
    updatedAtMs: 1_700_000_000_000,
    disabled: false,
    ...changes,
  };
}

/** What a store holds, to compare two views of one log. */
const contents = (store: KeyStore) => ({
  keys: [...store.keys()].sort((a, b) => a.id.localeCompare(b.id)),
  teams: [...store.teams()].sort((a, b) => a.id.localeCompare(b.id)),
});

describe.each(kinds)("key store (%s)", (_kind, logConfig) => {
  it("finds a key by id and by hash, and a team by id, as soon as the write resolves", async () => {
    const store = await connect(await logConfig());
    const team = teamRecord();
    const key = keyRecord({ team: team.id });
    await store.putTeam(team);
    await store.putKey(key);
    expect(store.key(key.id)).toEqual(key);
    expect(store.keyByHash(key.hash)).toEqual(key);
    expect(store.team(team.id)).toEqual(team);
    expect(store.keys()).toEqual([key]);
    expect(store.teams()).toEqual([team]);
    expect(store.keyByHash(hash())).toBeUndefined();
    expect(store.key(team.id)).toBeUndefined();
  });

  it("replaces a record on update: the old hash no longer finds the key", async () => {
    const store = await connect(await logConfig());
    const key = keyRecord();
    await store.putKey(key);
    const changed = { ...key, hash: hash(), revokedAtMs: 1_700_000_100_000, updatedAtMs: 1_700_000_100_000 };
    await store.putKey(changed);
    expect(store.key(key.id)).toEqual(changed);
    expect(store.keyByHash(changed.hash)).toEqual(changed);
    expect(store.keyByHash(key.hash)).toBeUndefined();
    expect(store.keys()).toEqual([changed]);
  });

  it("deletes a team for good", async () => {
    const store = await connect(await logConfig());
    const [kept, deleted] = [teamRecord(), teamRecord()] as [TeamRecord, TeamRecord];
    await store.putTeam(kept);
    await store.putTeam(deleted);
    await store.deleteTeam(deleted.id);
    expect(store.team(deleted.id)).toBeUndefined();
    expect(store.teams()).toEqual([kept]);
  });

  it("keeps nobody's objects: callers can change neither what they wrote nor what they read", async () => {
    const store = await connect(await logConfig());
    const key = keyRecord();
    await store.putKey(key);
    key.tags.env = "changed by the caller";
    expect(store.key(key.id)?.tags.env).toBe("test");
    const read = store.key(key.id) as KeyRecord;
    expect(() => {
      read.revokedAtMs = 1;
    }).toThrow(TypeError);
    expect(() => {
      read.tags.env = "changed by a reader";
    }).toThrow(TypeError);
  });

  it("finds a rotated key by its old hash until the grace period ends", async () => {
    const config = await logConfig();
    const store = await connect(config);
    const inGrace = keyRecord({ previousHash: hash(), previousHashExpiresAtMs: Date.now() + 600_000 });
    const expired = keyRecord({ previousHash: hash(), previousHashExpiresAtMs: Date.now() - 1 });
    const withoutGrace = keyRecord({ previousHash: hash(), previousHashExpiresAtMs: null });
    const expiring = keyRecord({ previousHash: hash(), previousHashExpiresAtMs: Date.now() + 1_000 });
    for (const key of [inGrace, expired, withoutGrace, expiring]) await store.putKey(key);

    expect(store.keyByHash(inGrace.previousHash as string)).toEqual(inGrace);
    expect(store.keyByHash(inGrace.hash)).toEqual(inGrace);
    expect(store.keyByHash(expired.previousHash as string)).toBeUndefined();
    expect(store.keyByHash(withoutGrace.previousHash as string)).toBeUndefined();
    expect(store.keyByHash(expiring.previousHash as string)).toEqual(expiring);
    await eventually(() => expect(store.keyByHash(expiring.previousHash as string)).toBeUndefined());
    expect(store.keyByHash(expiring.hash)).toEqual(expiring);

    // Rotating again drops the first old hash at once.
    const again = { ...inGrace, hash: hash(), previousHash: inGrace.hash };
    await store.putKey(again);
    expect(store.keyByHash(inGrace.previousHash as string)).toBeUndefined();
    expect(store.keyByHash(inGrace.hash)).toEqual(again);
  });

  it("reads the whole log back at start: a restarted process sees every write", async () => {
    const config = await logConfig();
    const first = await connect(config);
    const [team, deleted] = [teamRecord(), teamRecord()] as [TeamRecord, TeamRecord];
    const rotated = keyRecord({
      team: team.id,
      previousHash: hash(),
      previousHashExpiresAtMs: Date.now() + 600_000,
    });
    const updated = keyRecord({ team: team.id });
    await first.putTeam(team);
    await first.putTeam(deleted);
    await first.putKey(rotated);
    await first.putKey(updated);
    await first.putKey({ ...updated, name: "renamed" });
    await first.deleteTeam(deleted.id);
    // One process at a time on disk; on Kafka the first may as well keep running.
    await first.close();

    const restarted = await connect(config);
    expect(contents(restarted)).toEqual(contents(first));
    expect(contents(restarted).keys).toHaveLength(2);
    expect(restarted.key(updated.id)?.name).toBe("renamed");
    expect(restarted.team(deleted.id)).toBeUndefined();
    expect(restarted.keyByHash(rotated.previousHash as string)).toEqual(rotated);
    expect(restarted.keyByHash(updated.hash)?.name).toBe("renamed");
  });
});

describe("key store (Kafka), two processes", () => {
  it("shows a write of one process to the other", async () => {
    const config = testConfig("kafka");
    const [one, other] = [await connect(config), await connect(config)];
    const team = teamRecord();
    const key = keyRecord({ team: team.id });
    await one.putTeam(team);
    await one.putKey(key);
    await eventually(() => {
      expect(other.keyByHash(key.hash)).toEqual(key);
      expect(other.team(team.id)).toEqual(team);
    });

    const revoked = { ...key, revokedAtMs: Date.now() };
    await other.putKey(revoked);
    await other.deleteTeam(team.id);
    expect(other.key(key.id)).toEqual(revoked);
    await eventually(() => {
      expect(one.keyByHash(key.hash)).toEqual(revoked);
      expect(one.team(team.id)).toBeUndefined();
    });
    expect(contents(one)).toEqual(contents(other));
  });

  it("skips an entry it cannot decode, and reads on", async () => {
    const config = testConfig("kafka");
    const store = await connect(config);
    const kafka = createKafka(config.kafka, log);
    const producer = kafka.producer();
    await producer.connect();
    const unreadable = keyRecord();
    await producer.send({
      topic: governanceTopic(config.kafka),
      messages: [
        {
          key: `key:${unreadable.id}`,
          value: Buffer.from([0xff, 0xff, 0xff]),
          headers: { "schema-version": "1" },
        },
        { key: "not-a-name", value: null },
      ],
    });
    await producer.disconnect();

    const key = keyRecord();
    await store.putKey(key);
    expect(store.key(key.id)).toEqual(key);
    expect(store.key(unreadable.id)).toBeUndefined();
    const restarted = await connect(config);
    expect(restarted.keys()).toEqual([key]);
  });
});

describe("key store (disk)", () => {
  async function diskConfig() {
    const directory = await mkdtemp(join(tmpdir(), "key-store-"));
    directories.push(directory);
    return {
      config: testConfig("in-process", { governance: { directory } }),
      file: join(directory, "governance.log"),
    };
  }

  it("survives a last line torn by a crash, and appends after it", async () => {
    const { config, file } = await diskConfig();
    const first = await connect(config);
    const before = keyRecord();
    await first.putKey(before);
    await first.close();
    await appendFile(file, '{"name":"key:torn","version":1,"val');

    const second = await connect(config);
    expect(second.keys()).toEqual([before]);
    const after = keyRecord();
    await second.putKey(after);
    await second.close();

    const third = await connect(config);
    expect(contents(third).keys).toEqual(contents(second).keys);
    expect(third.key(after.id)).toEqual(after);
  });

  it("rewrites a log of mostly superseded lines with its live entries at start", async () => {
    const { config, file } = await diskConfig();
    const first = await connect(config);
    const key = keyRecord();
    const team = teamRecord();
    await first.putTeam(team);
    for (let update = 0; update <= 1_001; update++) await first.putKey({ ...key, updatedAtMs: update });
    await first.putKey(keyRecord());
    const deleted = teamRecord();
    await first.putTeam(deleted);
    await first.deleteTeam(deleted.id);
    await first.close();
    const lines = async () => (await readFile(file, "utf8")).split("\n").filter(Boolean).length;
    expect(await lines()).toBe(1_006);

    const second = await connect(config);
    expect(await lines()).toBe(3);
    expect(contents(second)).toEqual(contents(first));
    expect(second.key(key.id)?.updatedAtMs).toBe(1_001);
    await second.close();
    expect(contents(await connect(config))).toEqual(contents(first));
  });
});
