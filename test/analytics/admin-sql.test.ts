import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { type ClickHouseClient, ClickHouseLogLevel, createClient } from "@clickhouse/client";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { keepsUsersInSql } from "../../analytics/reader/access.ts";
import { reports } from "../../analytics/reports/index.ts";
import { type RunningGateway, startGateway } from "../../app/gateway.ts";
import type { GatewayConfig } from "../../config/schema.ts";
import { masterKey, testConfig } from "../support/gateway.ts";

const limits = { maxExecutionSeconds: 1, maxResultRows: 1000, maxMemoryBytes: 64 * 1024 * 1024 };

/** What an admin's SQL may not do, and what the 400 must name. */
const refusals: Array<[string, string, RegExp]> = [
  ["KILL QUERY", "KILL QUERY WHERE 1", /not KILL/],
  ["KILL MUTATION", "KILL MUTATION WHERE 1", /not KILL/],
  ["SYSTEM STOP MERGES", "SYSTEM STOP MERGES", /not SYSTEM/],
  ["SET", "SET max_execution_time = 100", /not SET/],
  [
    "a SETTINGS clause lifting a limit",
    "SELECT 1 SETTINGS max_execution_time = 100",
    /Cannot modify 'max_execution_time' setting in readonly mode\. \(READONLY\)/,
  ],
  ["system.users", "SELECT * FROM system.users", /grant SELECT ON system\.users\. \(ACCESS_DENIED\)/],
  ["system.grants", "SELECT * FROM system.grants", /grant SELECT ON system\.grants\. \(ACCESS_DENIED\)/],
  ["INSERT", "INSERT INTO requests (request_id) VALUES (generateUUIDv4())", /not INSERT/],
  ["ALTER", "ALTER TABLE requests DELETE WHERE 1", /not ALTER/],
  ["DROP", "DROP TABLE requests", /not DROP/],
  [
    "a result over the row limit",
    "SELECT number FROM numbers(5000)",
    /Limit for result exceeded, max rows: 1\.00 thousand.*\(TOO_MANY_ROWS_OR_BYTES\)/,
  ],
  [
    "a query over the time limit",
    "SELECT sleep(3)",
    /Timeout exceeded.*maximum: 1000 ms.*\(TIMEOUT_EXCEEDED\)/,
  ],
  [
    "a query over the memory limit",
    "SELECT length(groupArray(number)) FROM numbers(50000000)",
    /memory limit exceeded.*64\.00 MiB.*\(MEMORY_LIMIT_EXCEEDED\)/i,
  ],
];

interface Answer {
  status: number;
  body: Record<string, unknown> & { error?: { message: string; type: string } };
}

async function adminSql(gateway: RunningGateway, sql: string, params: Record<string, unknown> = {}) {
  const response = await fetch(`${gateway.url}/admin/analytics/query`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${masterKey}` },
    body: JSON.stringify({ sql, params }),
  });
  return { status: response.status, body: await response.json() } as Answer;
}

/** A ClickHouse client of the test itself, as `username` (logging off: refusals are expected). */
function clickhouse(url: string, username: string, password: string, database?: string): ClickHouseClient {
  return createClient({ url, username, password, database, log: { level: ClickHouseLogLevel.OFF } });
}

interface Setup {
  gateway: RunningGateway;
  config: GatewayConfig;
  /** The gateway's own ClickHouse user (can write, create databases). */
  owner: ClickHouseClient;
  reader: { username: string; password: string };
}

/**
 * Admin SQL against a gateway whose ClickHouse has the reader user: what is refused and why, what
 * still works, and that ClickHouse itself refuses the reader what the gateway refuses.
 */
function readerSuite(setup: () => Setup) {
  const otherDatabase = `other_${Math.random().toString(36).slice(2, 10)}`;
  let asReader: ClickHouseClient;
  beforeAll(async () => {
    const { owner, config, reader } = setup();
    await owner.command({ query: `CREATE DATABASE IF NOT EXISTS ${otherDatabase}` });
    await owner.command({
      query: `CREATE TABLE IF NOT EXISTS ${otherDatabase}.secret (x UInt8) ENGINE = MergeTree ORDER BY x`,
    });
    asReader = clickhouse(
      setup().gateway.clickhouse?.url as string,
      reader.username,
      reader.password,
      config.clickhouse.database,
    );
  });
  afterAll(async () => {
    await setup().owner.command({ query: `DROP DATABASE IF EXISTS ${otherDatabase}` });
    await asReader?.close();
  });

  it("runs an analytics query, with parameters, exact decimals and schema discovery", async () => {
    const { gateway, config } = setup();
    const counted = await adminSql(
      gateway,
      "SELECT count() AS n, {tag:String} AS tag, toDecimal64(1.5, 9) AS usd FROM requests",
      { tag: "t" },
    );
    expect(counted.status).toBe(200);
    expect(counted.body.rows).toEqual([{ n: 0, tag: "t", usd: "1.500000000" }]);

    const tables = await adminSql(
      gateway,
      "SELECT DISTINCT database, table FROM system.columns WHERE table IN ('requests', 'attempts', 'audit_log') ORDER BY table",
    );
    expect(tables.status).toBe(200);
    expect(tables.body.rows).toEqual(
      ["attempts", "audit_log", "requests"].map((table) => ({ database: config.clickhouse.database, table })),
    );
    for (const sql of ["SHOW TABLES", "DESCRIBE requests", "EXISTS requests", "WITH 1 AS x SELECT x"]) {
      expect((await adminSql(gateway, sql)).status, sql).toBe(200);
    }
  });

  it("runs every named report", async () => {
    for (const name of reports.keys()) {
      const response = await fetch(`${setup().gateway.url}/admin/analytics/reports/${name}`, {
        headers: { authorization: `Bearer ${masterKey}` },
      });
      expect(response.status, name).toBe(200);
    }
  });

  it.each(refusals)("refuses %s with a 400 naming the reason, on one line", async (_, sql, reason) => {
    const { status, body } = await adminSql(setup().gateway, sql);
    expect(status).toBe(400);
    expect(body.error?.type).toBe("invalid_request_error");
    expect(body.error?.message).toMatch(reason);
    expect(body.error?.message).not.toMatch(/\n|Unexpected end of JSON| at \S+ \(/);
  });

  it("refuses another database's tables", async () => {
    const { status, body } = await adminSql(setup().gateway, `SELECT * FROM ${otherDatabase}.secret`);
    expect(status).toBe(400);
    expect(body.error?.message).toMatch(
      new RegExp(`grant SELECT ON ${otherDatabase}\\.secret\\. \\(ACCESS_DENIED\\)`),
    );
  });

  it("is ClickHouse's own refusal too: the reader user may not KILL, SET, write or read beyond its grants", async () => {
    const { config, reader } = setup();
    const statements = [
      "KILL QUERY WHERE 1",
      "KILL MUTATION WHERE 1",
      "SET max_execution_time = 100",
      "SYSTEM STOP MERGES requests",
      "SYSTEM FLUSH LOGS",
      "INSERT INTO requests (request_id) VALUES (generateUUIDv4())",
      "ALTER TABLE requests DELETE WHERE 1",
      "DROP TABLE requests",
      "CREATE TABLE scratch (x UInt8) ENGINE = Memory",
      `GRANT SELECT ON *.* TO ${reader.username}`,
      "SELECT * FROM system.users",
      "SELECT * FROM system.grants",
      "SELECT * FROM system.processes",
      `SELECT * FROM ${otherDatabase}.secret`,
    ];
    for (const query of statements)
      await expect(asReader.command({ query }), query).rejects.toMatchObject({
        type: expect.stringMatching(/^(ACCESS_DENIED|READONLY)$/),
      });

    const grants = await asReader.query({ query: "SHOW GRANTS", format: "JSONEachRow" });
    const database = config.clickhouse.database;
    expect((await grants.json<Record<string, string>>()).map((row) => Object.values(row)[0]).sort()).toEqual(
      [`${database}.*`, "system.columns", "system.parts", "system.tables"]
        .map((on) => `GRANT SELECT ON ${on} TO ${reader.username}`)
        .sort(),
    );
    const settings = await asReader.query({
      query: `SELECT getSetting('readonly') AS readonly, getSetting('max_execution_time') AS seconds,
                getSetting('max_result_rows') AS rows, getSetting('max_memory_usage') AS memory`,
      format: "JSONEachRow",
    });
    expect(await settings.json()).toEqual([
      { readonly: 1, seconds: 1, rows: 1000, memory: limits.maxMemoryBytes },
    ]);
  });

  it("is a no-op when the reader stops every table's merges: ClickHouse skips the tables it has no right on", async () => {
    const { owner } = setup();
    await owner.command({
      query: "CREATE TABLE IF NOT EXISTS merge_probe (x UInt8) ENGINE = MergeTree ORDER BY x",
    });
    await owner.insert({ table: "merge_probe", values: [{ x: 1 }], format: "JSONEachRow" });
    await owner.insert({ table: "merge_probe", values: [{ x: 2 }], format: "JSONEachRow" });
    await asReader.command({ query: "SYSTEM STOP MERGES" });
    try {
      // Stopped merges would make this fail with "Cancelled merging parts" (ABORTED).
      await owner.command({ query: "OPTIMIZE TABLE merge_probe FINAL" });
    } finally {
      await owner.command({ query: "SYSTEM START MERGES merge_probe" });
    }
    const parts = await owner.query({
      query:
        "SELECT count() AS n FROM system.parts WHERE database = currentDatabase() AND table = 'merge_probe' AND active",
      format: "JSONEachRow",
    });
    expect(await parts.json()).toEqual([{ n: 1 }]);
  });
}

describe("admin SQL on the gateway's embedded ClickHouse", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "gateway-admin-sql-"));
  const logLines: Array<Record<string, unknown>> = [];
  const logStream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split("\n").filter(Boolean)) logLines.push(JSON.parse(line));
      done();
    },
  });
  const config = testConfig("in-process", {
    clickhouse: { url: "", dataDir: join(dataDir, "clickhouse") },
    analytics: { query: limits },
  });
  let setup: Setup;

  beforeAll(async () => {
    const gateway = await startGateway(config, pino({ level: "info" }, logStream));
    const connection = gateway.clickhouse;
    if (!connection?.reader) throw new Error("the embedded ClickHouse has no reader user");
    setup = { gateway, config, owner: connection.client, reader: connection.reader };
  });
  afterAll(async () => {
    await setup?.gateway.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  readerSuite(() => setup);

  it("keeps the reader's password out of its data dir: users.xml holds only its SHA-256", () => {
    const users = readFileSync(join(dataDir, "clickhouse", "config", "users.xml"), "utf8");
    expect(users).toContain(`<${setup.reader.username}>`);
    expect(users).toContain("<password_sha256_hex>");
    expect(users).not.toContain(setup.reader.password);
  });

  it("logs a refused query as one structured line, and nothing on the console", async () => {
    const consoleError = vi.spyOn(console, "error");
    const consoleWarn = vi.spyOn(console, "warn");
    const before = logLines.length;
    expect((await adminSql(setup.gateway, "SELECT * FROM system.users")).status).toBe(400);
    expect((await adminSql(setup.gateway, "SYSTEM STOP MERGES")).status).toBe(400);
    const lines = logLines.slice(before).filter((line) => line.msg !== "request");
    expect(lines).toEqual([
      expect.objectContaining({ level: 30, msg: "admin SQL refused", status: 400, reason: "ACCESS_DENIED" }),
      expect.objectContaining({ level: 30, msg: "admin SQL refused", status: 400, reason: "SYSTEM" }),
    ]);
    expect(JSON.stringify(lines)).not.toMatch(/stack|\\n {4}at /);
    expect(consoleError).not.toHaveBeenCalled();
    expect(consoleWarn).not.toHaveBeenCalled();
  });
});

const services = inject("services").clickhouse;
const serverOwner = clickhouse(services.url, services.username, services.password);
/** Whether the test run's ClickHouse keeps users where SQL can create them (not only in config files). */
const sqlUsers = await keepsUsersInSql(serverOwner);
/** Drops what a gateway of these tests left on the test run's ClickHouse: its database, and its reader. */
async function dropGatewayData(database: string) {
  await serverOwner.command({ query: `DROP DATABASE IF EXISTS ${database}` });
  if (!sqlUsers) return;
  await serverOwner.command({ query: `DROP USER IF EXISTS ${database}_reader` });
  await serverOwner.command({ query: `DROP SETTINGS PROFILE IF EXISTS ${database}_reader` });
}
afterAll(() => serverOwner.close());

describe.runIf(sqlUsers)("admin SQL on the test run's ClickHouse server, whose users SQL can create", () => {
  const password = "reader-password-0123456789";
  const config = testConfig("in-process", { analytics: { query: { ...limits, password } } });
  let setup: Setup;
  beforeAll(async () => {
    const gateway = await startGateway(config, pino({ level: "silent" }));
    const owner = clickhouse(services.url, services.username, services.password, config.clickhouse.database);
    setup = {
      gateway,
      config,
      owner,
      reader: { username: `${config.clickhouse.database}_reader`, password },
    };
  });
  afterAll(async () => {
    await setup?.gateway.close();
    await setup?.owner.close();
    await dropGatewayData(config.clickhouse.database);
  });

  readerSuite(() => setup);
});

describe.runIf(!sqlUsers)(
  "admin SQL on the test run's ClickHouse server, whose users live in config files",
  () => {
    const config = testConfig("in-process", {
      analytics: { query: { password: "reader-password-0123456789" } },
    });
    let gateway: RunningGateway;
    beforeAll(async () => {
      gateway = await startGateway(config, pino({ level: "silent" }));
    });
    afterAll(async () => {
      await gateway?.close();
      await dropGatewayData(config.clickhouse.database);
    });

    it("starts, and answers admin SQL with a 503 saying which user to define", async () => {
      const { status, body } = await adminSql(gateway, "SELECT 1");
      expect(status).toBe(503);
      expect(body.error?.message).toMatch(
        new RegExp(`ClickHouse user ${config.clickhouse.database}_reader\\b.*docs/analytics\\.md#admin-sql`),
      );
      expect(body.error?.message).not.toContain("\n");
    });
  },
);

describe("admin SQL on a ClickHouse server, without the reader's password", () => {
  const config = testConfig("in-process");
  let gateway: RunningGateway;
  beforeAll(async () => {
    gateway = await startGateway(config, pino({ level: "silent" }));
  });
  afterAll(async () => {
    await gateway?.close();
    await dropGatewayData(config.clickhouse.database);
  });

  it("is off, with a 503 saying what to set", async () => {
    const { status, body } = await adminSql(gateway, "SELECT 1");
    expect(status).toBe(503);
    expect(body.error?.message).toMatch(
      /no password for it: set analytics\.query\.password \(CLICKHOUSE_READER_PASSWORD\)/,
    );
  });
});
