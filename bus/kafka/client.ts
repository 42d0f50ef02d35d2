import { Kafka, logLevel as KafkaLogLevel, type LogEntry } from "kafkajs";
import type { GatewayConfig } from "../../config/schema.ts";
import type { Logger } from "../../runtime/logger.ts";
import "./request-queue-fix.ts";

/** A kafkajs client whose own logs go through our structured logger. */
export function createKafka(config: GatewayConfig["kafka"], log: Logger): Kafka {
  const kafkaLog = log.child({ component: "kafkajs" });
  return new Kafka({
    clientId: config.clientId,
    brokers: config.brokers,
    logLevel: KafkaLogLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, ...fields } = entry;
        if (level <= KafkaLogLevel.ERROR) kafkaLog.error(fields, message);
        else if (level === KafkaLogLevel.WARN) kafkaLog.warn(fields, message);
        else kafkaLog.debug(fields, message);
      },
  });
}
