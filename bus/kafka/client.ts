import { type Kafka, logLevel as KafkaLogLevel, type LogEntry } from "kafkajs";
import type { GatewayConfig } from "../../config/schema.ts";
import { newKafka } from "../../runtime/kafkajs.ts";
import type { Logger } from "../../runtime/logger.ts";
import { gatewayLevel } from "./kafkajs-log.ts";

/**
 * A kafkajs client whose own logs go through our structured logger, at the level each deserves
 * (kafkajs-log.ts: a routine rebalance is no error).
 */
export function createKafka(config: GatewayConfig["kafka"], log: Logger): Kafka {
  const kafkaLog = log.child({ component: "kafkajs" });
  return newKafka({
    clientId: config.clientId,
    brokers: config.brokers,
    logLevel: KafkaLogLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, ...fields } = entry;
        kafkaLog[gatewayLevel(level, entry)](fields, message);
      },
  });
}
