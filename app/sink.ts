import { type ClickHouseConnection, connectClickHouse } from "../analytics/clickhouse/connect.ts";
import { runMigrations } from "../analytics/migrations/run.ts";
import { applyReaderAccess } from "../analytics/reader/access.ts";
import { applyRetention } from "../analytics/retention.ts";
import { startAnalyticsSink } from "../analytics/sink.ts";
import type { Bus } from "../bus/bus.ts";
import type { GatewayProcess } from "./process.ts";

/**
 * The sink's ClickHouse (embedded unless one is configured), brought to this release: its schema,
 * retention and the reader user admin SQL runs as. Before the bus, so that a schema ClickHouse
 * refuses stops the start before any event is taken.
 */
export async function connectAnalytics({ config, log, checks, shutdown }: GatewayProcess) {
  const clickhouse = await connectClickHouse(config.clickhouse, config.analytics.query, log);
  shutdown.add({ name: "ClickHouse connection", stop: () => clickhouse.close() });
  checks.push({ name: "clickhouse", check: () => clickhouse.ping() });
  await runMigrations(clickhouse.client, log);
  await applyRetention(clickhouse.client, config.analytics, log);
  await applyReaderAccess(clickhouse.client, config.clickhouse.database, config.analytics.query, log);
  return clickhouse;
}

/** The sink: events from the bus into ClickHouse, exactly once. */
export async function startSink(
  { log, shutdown }: GatewayProcess,
  bus: Bus,
  clickhouse: ClickHouseConnection,
) {
  const sink = await startAnalyticsSink(
    bus.createEventConsumer(),
    clickhouse.client,
    log.child({ component: "sink" }),
  );
  shutdown.add({
    name: "analytics sink",
    leftBehind: "uncommitted offsets: the next sink stores those events, exactly once",
    stop: () => sink.stop(),
  });
}
