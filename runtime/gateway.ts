import type { AddressInfo } from "node:net";
import { type ClickHouseConnection, connectClickHouse } from "../analytics/clickhouse/connect.ts";
import { createKafka } from "../bus/kafka-client.ts";
import type { GatewayConfig } from "../config/schema.ts";
import { buildIngress } from "../ingress/app.ts";
import type { DependencyCheck } from "../ingress/routes/health.ts";
import type { Logger } from "./logger.ts";
import { connectRedis, redactUrl } from "./redis.ts";

export interface RunningGateway {
  /** Where the HTTP edge listens, e.g. http://127.0.0.1:8080. */
  readonly url: string;
  readonly clickhouse: ClickHouseConnection;
  /** Drains and stops every part, in the reverse order of start. */
  close(): Promise<void>;
}

/**
 * Starts every part the configuration asks for: each external service when it is configured, its
 * embedded stand-in otherwise. A part that fails to start stops the parts already started.
 */
export async function startGateway(config: GatewayConfig, log: Logger): Promise<RunningGateway> {
  const closers: Array<() => Promise<void>> = [];
  const checks: DependencyCheck[] = [];
  const closeAll = async () => {
    for (const close of closers.reverse()) {
      await close().catch((error: Error) => log.error({ err: error }, "error while stopping"));
    }
  };

  try {
    const clickhouse = await connectClickHouse(config.clickhouse, log);
    closers.push(() => clickhouse.close());
    checks.push({ name: "clickhouse", check: () => clickhouse.ping() });

    if (config.redis.url) {
      const redis = await connectRedis(config.redis);
      closers.push(async () => void (await redis.quit()));
      checks.push({ name: "redis", check: async () => void (await redis.ping()) });
      log.info({ url: redactUrl(config.redis.url) }, "connected to Redis");
    }

    if (config.kafka.brokers.length > 0) {
      const admin = createKafka(config.kafka, log).admin();
      await admin.connect();
      closers.push(() => admin.disconnect());
      checks.push({ name: "kafka", check: async () => void (await admin.describeCluster()) });
      log.info({ brokers: config.kafka.brokers }, "connected to Kafka");
    }

    const ingress = await buildIngress({ config: config.server, log, checks });
    closers.push(() => ingress.app.close());
    await ingress.app.listen({ host: config.server.host, port: config.server.port });
    const url = localUrl(ingress.app.server.address());

    return {
      url,
      clickhouse,
      async close() {
        ingress.stopAcceptingWork();
        await closeAll();
      },
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/** A URL a local client can use, also when the server listens on every interface. */
function localUrl(address: AddressInfo | string | null): string {
  if (address === null || typeof address === "string")
    throw new Error("the HTTP server is not listening on TCP");
  const wildcard = address.address === "0.0.0.0" || address.address === "::";
  const host = wildcard ? "127.0.0.1" : address.family === "IPv6" ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}
