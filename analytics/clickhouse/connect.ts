import { type ClickHouseClient, createClient } from "@clickhouse/client";
import type { GatewayConfig } from "../../config/schema.ts";
import type { Logger } from "../../runtime/logger.ts";
import { startEmbeddedClickHouse } from "./embedded-server.ts";

export interface ClickHouseConnection {
  readonly client: ClickHouseClient;
  readonly url: string;
  readonly embedded: boolean;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Connects to the configured ClickHouse, or starts the embedded one when no URL is set, and makes
 * sure the gateway's database exists.
 */
export async function connectClickHouse(
  config: GatewayConfig["clickhouse"],
  log: Logger,
): Promise<ClickHouseConnection> {
  const embedded = config.url ? undefined : await startEmbeddedClickHouse({ dataDir: config.dataDir });
  const url = config.url || (embedded?.url as string);
  if (embedded)
    log.info({ url, dataDir: config.dataDir, clickhousePid: embedded.pid }, "embedded ClickHouse started");

  const credentials = { url, username: config.username, password: config.password };
  try {
    const bootstrap = createClient(credentials);
    await bootstrap.command({ query: `CREATE DATABASE IF NOT EXISTS ${config.database}` });
    await bootstrap.close();
  } catch (error) {
    await embedded?.stop();
    throw new Error(`cannot reach ClickHouse at ${url}: ${(error as Error).message}`);
  }
  const client = createClient({ ...credentials, database: config.database });
  return {
    client,
    url,
    embedded: embedded !== undefined,
    async ping() {
      const result = await client.ping();
      if (!result.success) throw result.error;
    },
    async close() {
      await client.close();
      await embedded?.stop();
    },
  };
}
