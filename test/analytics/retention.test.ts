import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { commandAnalytics, queryAnalytics, startTestGateway, testConfig } from "../support/gateway.ts";

/** Retention is configuration: each start sets the tables' TTL to it, and ClickHouse drops what is older. */
describe("analytics retention", () => {
  it("drops rows past the configured days, keeps the rest, and keeps everything again at 0", async () => {
    const namespace = randomUUID().slice(0, 8);
    const kept = testConfig(
      "in-process",
      { analytics: { retentionDays: 30, rollupRetentionDays: 400 } },
      namespace,
    );
    const sink = await startTestGateway(kept, "sink");
    await sink.close();
    const ttlOf = async (table: string) =>
      (
        await queryAnalytics<{ query: string }>(
          kept,
          "SELECT create_table_query AS query FROM system.tables WHERE database = currentDatabase() AND name = {table:String}",
          { table },
        )
      )[0]?.query;
    expect(await ttlOf("requests")).toContain("TTL toDateTime(received_at) + toIntervalDay(30)");
    expect(await ttlOf("attempts")).toContain("TTL toDateTime(finished_at) + toIntervalDay(30)");
    expect(await ttlOf("requests_per_minute")).toContain("TTL toDateTime(minute) + toIntervalDay(400)");

    const row = (id: string, daysAgo: number) => ({
      request_id: id,
      stage: "finished",
      received_at: new Date(Date.now() - daysAgo * 86_400_000)
        .toISOString()
        .replace("T", " ")
        .replace("Z", ""),
      priority: "interactive",
      model_requested: "m",
    });
    const [old, fresh] = [randomUUID(), randomUUID()];
    await commandAnalytics(
      kept,
      `INSERT INTO requests (request_id, stage, received_at, priority, model_requested) FORMAT JSONEachRow ${JSON.stringify(row(old, 60))} ${JSON.stringify(row(fresh, 1))}`,
    );
    await commandAnalytics(kept, "OPTIMIZE TABLE requests FINAL");
    const left = await queryAnalytics<{ request_id: string }>(
      kept,
      "SELECT request_id FROM requests WHERE request_id IN ({old:UUID}, {fresh:UUID})",
      { old, fresh },
    );
    expect(left.map((entry) => entry.request_id)).toEqual([fresh]);

    const forever = testConfig("in-process", { analytics: { retentionDays: 0 } }, namespace);
    await (await startTestGateway(forever, "sink")).close();
    expect(await ttlOf("requests")).not.toContain("TTL");
    expect(await ttlOf("requests_per_minute")).not.toContain("TTL");
  });
});
