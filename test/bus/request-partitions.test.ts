import { randomBytes, randomUUID } from "node:crypto";
import { compatibilityPartitioner } from "@platformatic/kafka";
import { Partitioners, type PartitionMetadata } from "kafkajs";
import { describe, expect, it } from "vitest";
import { javaCompatiblePartitioner } from "../../bus/kafka/platformatic/partitioner.ts";

const kafkajs = Partitioners.DefaultPartitioner();
const partitionMetadataOf = (partitions: number) =>
  Array.from(
    { length: partitions },
    (_, partitionId): PartitionMetadata => ({
      partitionId,
      leader: 0,
      replicas: [0],
      isr: [0],
      partitionErrorCode: 0,
    }),
  );

/**
 * Requests are keyed by id. Whichever Kafka client an ingress publishes with (`kafka.client`), a
 * request id must land on the partition the other would pick: the partitioner the platformatic
 * publisher is given is kafkajs's (Java's) murmur2, not @platformatic/kafka's own default, which
 * sends about half the keys elsewhere whenever the partition count is no power of two.
 */
describe("request partitions, whichever client publishes", () => {
  it("puts every request id on the partition kafkajs would", () => {
    for (const partitions of [1, 3, 12]) {
      const partitionMetadata = partitionMetadataOf(partitions);
      for (let index = 0; index < 500; index++) {
        const key = randomUUID();
        const platformatic = javaCompatiblePartitioner({}, Buffer.from(key)) % partitions;
        expect(platformatic).toBe(
          kafkajs({ topic: "requests", partitionMetadata, message: { key, value: null } }),
        );
      }
    }
  });

  it("hashes keys of every length as kafkajs and @platformatic/kafka's own Java-compatible murmur2 do", () => {
    const partitionMetadata = partitionMetadataOf(1_009);
    for (let length = 0; length <= 64; length++) {
      for (let index = 0; index < 50; index++) {
        const key = randomBytes(length);
        const ours = javaCompatiblePartitioner({}, key);
        expect(ours).toBe(compatibilityPartitioner({ topic: "requests", key }, key));
        expect(ours % 1_009).toBe(
          kafkajs({ topic: "requests", partitionMetadata, message: { key, value: null } }),
        );
      }
    }
  });

  it("sends a message without a key to partition 0, as @platformatic/kafka does", () => {
    expect(javaCompatiblePartitioner({}, undefined)).toBe(0);
  });
});
