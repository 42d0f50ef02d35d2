import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { type RunningGateway, startGateway } from "../app/gateway.ts";
import { parseConfig } from "../config/load.ts";

/** The key of every local benchmark gateway, and its admin API's key. */
export const benchKey = "bench-key-0123456789";
export const benchMasterKey = "bench-master-key-0123456789";

/**
 * A gateway in this process on its embedded defaults (in-process bus, embedded ClickHouse in a
 * temporary directory), with these providers and models, for benchmarks of one feature.
 */
export async function startLocalGateway(settings: {
  providers: unknown[];
  models: unknown[];
  /** Any other sections, e.g. `redis` or `auth.masterKey`. */
  [section: string]: unknown;
}): Promise<{ gateway: RunningGateway; close(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), "bench-gateway-"));
  const config = parseConfig(
    JSON.stringify({
      server: { port: 0, host: "127.0.0.1" },
      auth: { keys: [benchKey], masterKey: benchMasterKey },
      log: { level: "warn" },
      clickhouse: { dataDir },
      ...settings,
    }),
    "bench",
    {},
  );
  const gateway = await startGateway(config, pino({ level: "warn" }));
  return {
    gateway,
    async close() {
      await gateway.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
