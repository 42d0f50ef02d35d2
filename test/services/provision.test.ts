import { mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { provisionServices } from "./provision.ts";

const originalPath = process.env.PATH;
afterEach(() => {
  process.env.PATH = originalPath;
});

describe("provisioning the real services", () => {
  it("fails with one message naming what is missing for each service when no route works", async () => {
    // A PATH with a shell and nothing else: no java, no mvn, no python3, no redis-server.
    const bin = mkdtempSync(join(tmpdir(), "bare-path-"));
    for (const tool of ["bash", "cat"]) symlinkSync(`/bin/${tool}`, join(bin, tool));
    process.env.PATH = bin;

    const failure = await provisionServices({ TEST_SERVICES: "local" }).then(
      () => new Error("expected provisioning to fail"),
      (error: Error) => error,
    );
    expect(failure.message).toMatch(/^the tests need real Kafka, ClickHouse and Redis/);
    expect(failure.message).toMatch(/give KAFKA_BROKERS, CLICKHOUSE_URL, REDIS_URL/);
    expect(failure.message).toMatch(/- kafka: .*(java|mvn) is not on the PATH/);
    expect(failure.message).toMatch(/- clickhouse: embedded ClickHouse needs python3/);
    expect(failure.message).toMatch(
      /- redis: redis-server did not start[\s\S]*redis-server: command not found/,
    );
  });

  it("uses endpoints from the environment as they are, starting nothing", async () => {
    const services = await provisionServices({
      KAFKA_BROKERS: "kafka-a:9092,kafka-b:9092",
      CLICKHOUSE_URL: "http://ch:8123",
      REDIS_URL: "redis://cache:6379",
    });
    expect(services.endpoints).toEqual({
      kafka: { brokers: ["kafka-a:9092", "kafka-b:9092"] },
      clickhouse: { url: "http://ch:8123", username: "default", password: "" },
      redis: { url: "redis://cache:6379" },
      provenance: { kafka: "environment", clickhouse: "environment", redis: "environment" },
    });
    await services.stop();
  });

  it("refuses an unknown route", async () => {
    await expect(provisionServices({ TEST_SERVICES: "podman" })).rejects.toThrow(/TEST_SERVICES must be/);
  });
});
