import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, inject, it } from "vitest";
import { freePort } from "../../runtime/free-port.ts";
import { type CliRun, runCli } from "../support/cli.ts";
import { type GatewayProcess, spawnGateway } from "../support/processes.ts";

const services = inject("services");
const running: GatewayProcess[] = [];
afterEach(() => {
  for (const gateway of running.splice(0)) gateway.kill("SIGKILL");
});

/** A data directory of its own, and the test run's ClickHouse (quicker to start on than the embedded one). */
const onServices = () => ({
  GATEWAY_DATA_DIR: mkdtempSync(join(tmpdir(), "gateway-data-")),
  CLICKHOUSE_URL: services.clickhouse.url,
  CLICKHOUSE_USER: services.clickhouse.username,
  CLICKHOUSE_PASSWORD: services.clickhouse.password,
  PORT: "0",
});

/** The JSON lines a start printed on stdout (no terminal: JSON is the default). */
function linesOf(run: CliRun): Array<{ level: number; msg: string; [field: string]: unknown }> {
  return run.stdout
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

/** A failed start: its last line, at fatal, is the one sentence, with no stack trace at the default level. */
function failure(run: CliRun): string {
  const lines = linesOf(run);
  const fatal = lines.filter((line) => line.level === 60);
  expect(fatal).toHaveLength(1);
  expect(lines.at(-1)).toBe(fatal[0]);
  expect(fatal[0]).not.toHaveProperty("err");
  expect(run.stdout).not.toMatch(/"stack"|\n\s+at /);
  return fatal[0]?.msg as string;
}

describe("a start that cannot succeed says why in one sentence, and exits with 1", () => {
  it("port in use", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = (taken.address() as { port: number }).port;
    const run = await runCli(["start"], { ...onServices(), PORT: String(port) });
    await new Promise((resolve) => taken.close(resolve));
    expect(run.code).toBe(1);
    expect(failure(run)).toBe(`port ${port} is in use by another process: stop it or set PORT`);
  });

  it("data directory held by another gateway: names it and the gateway holding it", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "gateway-data-"));
    const first = await spawnGateway(
      { server: { port: 0 }, clickhouse: { dataDir: join(dataDir, "clickhouse") }, log: { level: "info" } },
      "sink",
    );
    running.push(first);
    const run = await runCli(["start"], { GATEWAY_DATA_DIR: dataDir, PORT: "0" });
    expect(run.code).toBe(1);
    expect(failure(run)).toBe(
      `the data directory ${dataDir} is used by another gateway process (pid ${first.child.pid}): stop it, or set GATEWAY_DATA_DIR to another directory`,
    );
  }, 90_000);

  it("Redis unreachable: names it, its address and REDIS_URL; at debug, the stack too", async () => {
    const port = await freePort();
    const env = { KAFKA_BROKERS: services.kafka.brokers.join(","), REDIS_URL: `redis://127.0.0.1:${port}` };
    const run = await runCli(["start", "--role", "worker"], env);
    expect(run.code).toBe(1);
    expect(failure(run)).toBe(
      `cannot reach Redis at redis://127.0.0.1:${port}: is it running? set REDIS_URL (redis.url) to where it listens`,
    );

    const debugging = await runCli(["start", "--role", "worker"], { ...env, LOG_LEVEL: "debug" });
    expect(debugging.code).toBe(1);
    const why = linesOf(debugging).find((line) => line.msg === "why the gateway could not start");
    expect(why?.err).toMatchObject({
      stack: expect.stringMatching(/^ServiceUnreachable: cannot reach Redis.*\n\s+at /),
    });
  });

  it("Kafka unreachable: names it, its brokers and KAFKA_BROKERS", async () => {
    const port = await freePort();
    const run = await runCli(["start", "--role", "worker"], {
      KAFKA_BROKERS: `127.0.0.1:${port}`,
      REDIS_URL: services.redis.url,
    });
    expect(run.code).toBe(1);
    expect(failure(run)).toBe(
      `cannot reach Kafka at 127.0.0.1:${port}: is it running? set KAFKA_BROKERS (kafka.brokers) to where it listens`,
    );
    // kafkajs's own line for each refused attempt and each retry stays below the default level.
    expect(linesOf(run).filter((line) => line.component === "kafkajs")).toEqual([]);
  }, 90_000);

  it("ClickHouse unreachable: names it, its address and CLICKHOUSE_URL", async () => {
    const port = await freePort();
    const run = await runCli(["start"], { ...onServices(), CLICKHOUSE_URL: `http://127.0.0.1:${port}` });
    expect(run.code).toBe(1);
    expect(failure(run)).toBe(
      `cannot reach ClickHouse at http://127.0.0.1:${port}/: is it running? set CLICKHOUSE_URL (clickhouse.url) to where it listens`,
    );
    // Said once: not again by the ClickHouse client's own logger.
    expect(run.stderr).toBe("");
  });
});

describe("a configuration the gateway refuses: every problem on stderr, exit 2, before anything starts", () => {
  it("a wrong value names the option and the variable it came from", async () => {
    const run = await runCli(["start"], { PORT: "not-a-port" });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(
      /^invalid configuration in .*gateway\.yaml:\n {2}- server\.port: Expected integer.* \(from PORT\)\n$/,
    );
  });

  it("KAFKA_BROKERS without Redis names REDIS_URL beside redis.url", async () => {
    const run = await runCli(["start"], { KAFKA_BROKERS: services.kafka.brokers.join(",") });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      "redis.url: the Kafka bus (kafka.brokers, $KAFKA_BROKERS) needs Redis for replies, cancels and claims: set REDIS_URL (or redis.url)",
    );
  });
});
