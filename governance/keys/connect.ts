import type { GatewayConfig } from "../../config/schema.ts";
import type { Logger } from "../../runtime/logger.ts";
import type { KeyStore } from "../contracts.ts";
import { createDiskKeyStore } from "./disk-store.ts";
import { createKafkaKeyStore } from "./kafka-store.ts";

/**
 * The key store of a process, started (its view current): the Kafka log when Kafka is configured
 * (every process of a deployment shares it), else a file in `governance.directory` (one process,
 * the embedded default).
 */
export async function connectKeyStore(config: GatewayConfig, log: Logger): Promise<KeyStore> {
  const storeLog = log.child({ component: "key-store" });
  const store =
    config.kafka.brokers.length > 0
      ? createKafkaKeyStore(config.kafka, storeLog)
      : createDiskKeyStore(config.governance.directory, storeLog);
  await store.start();
  return store;
}
