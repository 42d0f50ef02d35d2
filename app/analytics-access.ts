import { createClient } from "@clickhouse/client";
import type { ClickHouseConnection } from "../analytics/clickhouse/connect.ts";
import { connectReader } from "../analytics/reader/connect.ts";
import type { AnalyticsAccess } from "../analytics/reader/run.ts";
import type { GatewayProcess } from "./process.ts";

/**
 * The admin analytics API's ClickHouse: the sink's in this process, else the configured server, if
 * any; admin SQL and reports run as the reader user, erasures as the gateway's own.
 */
export function analyticsAccess(
  { config, shutdown }: GatewayProcess,
  clickhouse: ClickHouseConnection | undefined,
): AnalyticsAccess | undefined {
  if (!clickhouse && !config.clickhouse.url) return undefined;
  const owner =
    clickhouse?.client ??
    createClient({
      url: config.clickhouse.url,
      username: config.clickhouse.username,
      password: config.clickhouse.password,
      database: config.clickhouse.database,
    });
  if (!clickhouse) shutdown.add({ name: "admin SQL connection", stop: () => owner.close() });
  const reader = connectReader(
    clickhouse?.url ?? config.clickhouse.url,
    config.clickhouse.database,
    clickhouse?.reader?.password ?? config.analytics.query.password,
  );
  if ("client" in reader) shutdown.add({ name: "admin SQL reader", stop: () => reader.client.close() });
  return { owner, reader };
}
