import { randomUUID } from "node:crypto";
import { compatibilityPartitioner } from "@platformatic/kafka";
import { Partitioners, type PartitionMetadata } from "kafkajs";
import { describe, expect, it } from "vitest";

/**
 * Requests are keyed by id. Whichever Kafka client an ingress publishes with (`kafka.client`), a
 * request id must land on the partition the other would pick: the partitioner the platformatic
 * publisher is given is kafkajs's (Java's) murmur2, not @platformatic/kafka's own default, which
 * sends about half the keys elsewhere whenever the partition count is no power of two.
 */
describe("request partitions, whichever client publishes", () => {
  it("puts every request id on the partition kafkajs would", () => {
    const kafkajs = Partitioners.DefaultPartitioner();
    for (const partitions of [1, 3, 12]) {
      const partitionMetadata = Array.from(
        { length: partitions },
        (_, partitionId): PartitionMetadata => ({
          partitionId,
          leader: 0,
          replicas: [0],
          isr: [0],
          partitionErrorCode: 0,
        }),
      );
      for (let index = 0; index < 500; index++) {
        const key = randomUUID();
        const platformatic =
          compatibilityPartitioner({ topic: "requests", key }, Buffer.from(key)) % partitions;
        expect(platformatic).toBe(
          kafkajs({ topic: "requests", partitionMetadata, message: { key, value: null } }),
        );
      }
    }
  });
});
