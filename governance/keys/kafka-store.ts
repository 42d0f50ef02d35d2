import { randomUUID } from "node:crypto";
import { type KafkaMessage, type Message, Partitioners } from "kafkajs";
import { fromKafkaMessage, toKafkaMessage } from "../../bus/kafka/avro-message.ts";
import { createKafka } from "../../bus/kafka/client.ts";
import { ensureTopics, governanceTopic } from "../../bus/kafka/topics.ts";
import type { GatewayConfig } from "../../config/schema.ts";
import type { Logger } from "../../runtime/logger.ts";
import { governanceRecordCodec } from "../../schemas/index.ts";
import type { KeyStore } from "../contracts.ts";
import { createView, writesTo } from "./view.ts";

/**
 * Keys and teams in a compacted topic of one partition (see topics.ts), which every process reads
 * whole, from its start, into a view of its own. A write is produced to every in-sync replica and
 * resolves once this process has read it back, so its writer sees it on its next lookup.
 */
export function createKafkaKeyStore(config: GatewayConfig["kafka"], log: Logger): KeyStore {
  const kafka = createKafka(config, log);
  const topic = governanceTopic(config);
  const { apply, ...lookups } = createView();
  const read = readPosition();
  const producer = kafka.producer({
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  // kafkajs reads only as a member of a consumer group: a group of this process alone, which
  // never commits, reads the whole log from its start each time it joins.
  const consumer = kafka.consumer({
    groupId: `${config.topicPrefix}governance-view-${randomUUID()}`,
    sessionTimeout: config.sessionTimeoutMs,
    // The longest a change waits in the broker for company before this process sees it.
    maxWaitTimeInMs: 100,
    allowAutoTopicCreation: false,
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    // One that kafkajs restarts (a group coordinator still loading, at a broker's start) recovers by itself.
    log[payload.restart ? "warn" : "error"](
      { err: payload.error, restart: payload.restart },
      "governance log reader crashed",
    );
    // Not restarted: the view stops here, and writes can no longer be read back.
    if (!payload.restart) read.fail(payload.error);
  });

  const applyMessage = (message: KafkaMessage) => {
    const name = message.key?.toString() ?? "";
    try {
      apply(name, message.value === null ? null : fromKafkaMessage(governanceRecordCodec, message));
    } catch (error) {
      // Not dead-lettered (bus/kafka/dead-letters.ts): every process reads this log whole at each
      // start, so each would dead-letter the entry again, and a replay would append an old record
      // after newer ones of its name, undoing them. Nor is it lost: the log keeps it until a newer
      // record of the same name replaces it, and a release that can read it reads it here.
      log.error({ err: error, entry: name, offset: message.offset }, "undecodable governance entry skipped");
    }
  };

  const store: KeyStore = {
    ...lookups,
    ...writesTo(async (name, record) => {
      const message: Message =
        record === null ? { key: name, value: null } : toKafkaMessage(governanceRecordCodec, name, record);
      const [sent] = await producer.send({ topic, acks: -1, messages: [message] });
      if (sent?.baseOffset === undefined) throw new Error(`Kafka acknowledged ${name} without an offset`);
      await read.past(Number(sent.baseOffset));
    }),
    async start() {
      const admin = kafka.admin();
      try {
        await admin.connect();
        await ensureTopics(admin, config, [topic]);
        const [end] = await untilLeader(() => admin.fetchTopicOffsets(topic));
        await Promise.all([producer.connect(), consumer.connect()]);
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        await consumer.run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            for (const message of batch.messages) {
              // A reader kafkajs restarted reads from the start again: entries the view has are
              // skipped, or it would briefly show older records (a revoked key valid again).
              if (Number(message.offset) < read.next()) continue;
              applyMessage(message);
              read.advance(Number(message.offset) + 1);
            }
          },
        });
        // Compaction never removes the log's last entry (it is newer than any other of its
        // name, and the cleaner leaves the active segment alone), so this offset is read.
        await read.past(Number(end?.high ?? 0) - 1);
      } catch (error) {
        await store.close();
        throw new Error(`cannot read the key log ${topic}: ${(error as Error).message}`);
      } finally {
        await admin.disconnect();
      }
    },
    async close() {
      read.fail(new Error("the key store is closed"));
      await Promise.allSettled([consumer.disconnect(), producer.disconnect()]);
    },
  };
  return store;
}

/**
 * Retries a call that a just-created topic can refuse while its partition has no leader yet, for
 * up to ten seconds (kafkajs may report it as a retriable error or, its own retries spent, as one
 * that is not).
 */
async function untilLeader<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/** How far the view has read the log, and the waits for it to get past an offset. */
function readPosition() {
  let next = 0;
  let failure: Error | undefined;
  let waiting: Array<{ offset: number; resolve(): void; reject(error: Error): void }> = [];
  return {
    /** The offset the view reads next: it has applied every entry before it. */
    next: () => next,
    advance(to: number) {
      next = to;
      const passed = waiting.filter((wait) => wait.offset < next);
      waiting = waiting.filter((wait) => wait.offset >= next);
      for (const wait of passed) wait.resolve();
    },
    /** Resolves once the view has applied the entry at `offset` (at once for -1: an empty log). */
    past(offset: number): Promise<void> {
      if (failure) return Promise.reject(failure);
      if (offset < next) return Promise.resolve();
      return new Promise((resolve, reject) => waiting.push({ offset, resolve, reject }));
    },
    /** No more reading: every wait, now or later, fails. */
    fail(error: Error) {
      failure = error;
      for (const wait of waiting) wait.reject(error);
      waiting = [];
    },
  };
}
