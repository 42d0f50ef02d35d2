import {
  compatibilityPartitioner,
  type MessageToProduce,
  ProduceAcks,
  Producer,
  stringSerializer,
} from "@platformatic/kafka";
import type { GatewayConfig } from "../../../config/schema.ts";
import type { RequestPublisher } from "../../messaging.ts";
import type { AvroMessage } from "../avro-message.ts";
import { CoalescingProducer, type SendBatch } from "../coalescing-producer.ts";
import { createKafkaRequestPublisher } from "../requests.ts";
import { platformaticBaseOptions } from "./client-options.ts";

type AvroProducer = Producer<string, Buffer, string, string>;

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
 * The ingress's request publisher on @platformatic/kafka, as on kafkajs: the sends of one
 * event-loop turn in one produce request, acks from all in-sync replicas (its own default is the
 * leader's alone), not idempotent, and kafkajs's (Java's) partitioner, so that a request id lands
 * on the same partition whichever client published it. It connects at the first request: most
 * processes that build it (workers, sinks) never publish one.
 */
export function createPlatformaticRequestPublisher(config: GatewayConfig["kafka"]): {
  publisher: RequestPublisher;
  close(): Promise<void>;
} {
  const producer: AvroProducer = new Producer({
    ...platformaticBaseOptions(config),
    acks: ProduceAcks.ALL,
    idempotent: false,
    autocreateTopics: false,
    partitioner: compatibilityPartitioner,
    serializers: { key: stringSerializer, headerKey: stringSerializer, headerValue: stringSerializer },
  });
  const coalescing = new CoalescingProducer<AvroMessage>(platformaticSendBatch(producer), 0);
  return {
    publisher: createKafkaRequestPublisher(coalescing, config),
    async close() {
      await coalescing.close();
      await producer.close();
    },
  };
}
