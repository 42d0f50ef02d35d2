import { type MessageToProduce, ProduceAcks, Producer, stringSerializer } from "@platformatic/kafka";
import type { GatewayConfig } from "../../../config/schema.ts";
import type { AvroMessage } from "../avro-message.ts";
import type { SendBatch } from "../coalescing-producer.ts";
import { platformaticBaseOptions } from "./client-options.ts";
import { javaCompatiblePartitioner } from "./partitioner.ts";

/** A @platformatic/kafka producer as a SendBatch: one produce call for everything gathered. */
export function platformaticSendBatch<K, V, HK, HV>(
  producer: Producer<K, V, HK, HV>,
): SendBatch<Omit<MessageToProduce<K, V, HK, HV>, "topic">> {
  return (topicMessages) =>
    producer.send({
      messages: topicMessages.flatMap(({ topic, messages }) =>
        messages.map((message) => ({ ...message, topic })),
      ),
    });
}

/**
 * The process's producer on @platformatic/kafka (requests, events, batch results), set as the
 * kafkajs one is: acks from all in-sync replicas (its own default is the leader's alone), not
 * idempotent, and kafkajs's (Java's) partitioner (partitioner.ts), so that a request id lands on
 * the same partition whichever client published it. It connects at the first message: many
 * processes that build it never send one.
 */
export function createPlatformaticProducer(config: GatewayConfig["kafka"]): {
  sendBatch: SendBatch<AvroMessage>;
  close(): Promise<void>;
} {
  const producer = new Producer<string, Buffer, string, string>({
    ...platformaticBaseOptions(config),
    acks: ProduceAcks.ALL,
    idempotent: false,
    autocreateTopics: false,
    partitioner: javaCompatiblePartitioner,
    serializers: { key: stringSerializer, headerKey: stringSerializer, headerValue: stringSerializer },
  });
  return { sendBatch: platformaticSendBatch(producer), close: () => producer.close() };
}
