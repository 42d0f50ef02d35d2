import type { KafkaMessage, Message } from "kafkajs";
import type { Codec } from "../../schemas/codec.ts";

/** Kafka header naming the schema version a message was written with. */
const schemaVersionHeader = "schema-version";

/** A record as a Kafka message: Avro bytes, with the writer's schema version in a header. */
export function toKafkaMessage<T, Input>(codec: Codec<T, Input>, key: string, value: Input): Message {
  return { key, value: codec.encode(value), headers: { [schemaVersionHeader]: String(codec.version) } };
}

/** Reads a message written by any released version of the schema (throws if it cannot). */
export function fromKafkaMessage<T, Input>(codec: Codec<T, Input>, message: KafkaMessage): T {
  const header = message.headers?.[schemaVersionHeader]?.toString();
  return codec.decode(message.value as Buffer, header === undefined ? codec.version : Number(header));
}
