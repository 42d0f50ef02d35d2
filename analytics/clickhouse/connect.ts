import { randomBytes } from "node:crypto";
import { type ClickHouseClient, ClickHouseLogLevel, createClient } from "@clickhouse/client";
import type { GatewayConfig } from "../../config/schema.ts";
import { redactUrl } from "../../config/secrets.ts";
import type { Logger } from "../../runtime/logger.ts";
import { ServiceUnreachable } from "../../runtime/start-failures.ts";
import { sha256Hex } from "../reader/access.ts";
import { type ReaderOptions, readerName } from "../reader/user.ts";
import { startEmbeddedClickHouse } from "./embedded-server.ts";

export interface ClickHouseConnection {
  readonly client: ClickHouseClient;
  readonly url: string;
  readonly embedded: boolean;
  /** The login of the reader user that admin SQL runs as, when this process has its password. */
  readonly reader: { username: string; password: string } | undefined;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Connects to the configured ClickHouse, or starts the embedded one when no URL is set, and makes
 * sure the gateway's database exists.
 */
export async function connectClickHouse(
  config: GatewayConfig["clickhouse"],
  reader: ReaderOptions,
  log: Logger,
): Promise<ClickHouseConnection> {
  // The embedded ClickHouse is this process's alone: without a configured password its reader gets
  // one made here, and the users.xml written at its start holds only the hash.
  const readerPassword = reader.password || (config.url ? "" : randomBytes(24).toString("base64url"));
  const embedded = config.url
    ? undefined
    : await startEmbeddedClickHouse({
        dataDir: config.dataDir,
        reader: { database: config.database, options: reader, passwordSha256: sha256Hex(readerPassword) },
      });
  const url = config.url || (embedded?.url as string);
  if (embedded)
    log.info({ url, dataDir: config.dataDir, clickhousePid: embedded.pid }, "embedded ClickHouse started");

  const credentials = { url, username: config.username, password: config.password };
  // Its failure is reported once, below, rather than also by the client's own logger on stderr.
  const bootstrap = createClient({ ...credentials, log: { level: ClickHouseLogLevel.OFF } });
  try {
    await bootstrap.command({ query: `CREATE DATABASE IF NOT EXISTS ${config.database}` });
  } catch (error) {
    await embedded?.stop();
    if (embedded) throw new Error(`the embedded ClickHouse at ${url} failed: ${(error as Error).message}`);
    throw new ServiceUnreachable("ClickHouse", redactUrl(url), "clickhouse.url", error as Error);
  } finally {
    await bootstrap.close();
  }
  const client = createClient({ ...credentials, database: config.database });
  return {
    client,
    url,
    embedded: embedded !== undefined,
    reader: readerPassword ? { username: readerName(config.database), password: readerPassword } : undefined,
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
