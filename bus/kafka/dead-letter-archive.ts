import { randomUUID } from "node:crypto";
import type { IHeaders, Kafka, KafkaMessage, Producer } from "kafkajs";
import { deadLetterHeader, isDeadLetterHeader, letterId } from "./dead-letters.ts";

/** One dead letter as an operator sees it: the message as first written, and why it is here. */
export interface DeadLetter {
  /** Its name for `ai-gateway dead-letters show|replay`. */
  id: string;
  partition: number;
  offset: string;
  /** When it was dead-lettered (ISO 8601). */
  time: string;
  source: { topic: string; partition: number; offset: string };
  consumer: string;
  class: string;
  reason: string;
  /** The original message: key, value and headers (without the dead-letter ones). */
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
  /** When it was last replayed, if ever (ISO 8601). */
  replayed: string | null;
}

/**
 * Every letter of the dead-letter topic, oldest first, read from its start to its end as of now
 * by a consumer group of its own, deleted afterwards (kafkajs reads only within a group).
 */
export async function readDeadLetters(
  kafka: Kafka,
  topic: string,
  timeoutMs = 60_000,
): Promise<DeadLetter[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    // No topic yet: no gateway of this prefix ever dead-lettered (or even started).
    if (!(await admin.listTopics()).includes(topic)) return [];
    const ends = (await admin.fetchTopicOffsets(topic)).filter(({ high, low }) => BigInt(high) > BigInt(low));
    if (ends.length === 0) return [];
    const groupId = `${topic}-reader-${randomUUID()}`;
    const records = await readUpTo(
      kafka,
      groupId,
      topic,
      new Map(ends.map(({ partition, high }) => [partition, BigInt(high)])),
      timeoutMs,
    );
    await admin.deleteGroups([groupId]).catch(() => undefined); // it committed nothing; it expires anyway
    return lettersOf(records);
  } finally {
    await admin.disconnect();
  }
}

type Fetched = { partition: number; message: KafkaMessage };

async function readUpTo(
  kafka: Kafka,
  groupId: string,
  topic: string,
  ends: Map<number, bigint>,
  timeoutMs: number,
): Promise<Fetched[]> {
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, allowAutoTopicCreation: false });
  // By partition and offset: a consumer kafkajs restarts reads from the start again.
  const records = new Map<string, Fetched>();
  const pending = new Set(ends.keys());
  let timer: NodeJS.Timeout | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`reading ${topic} took longer than ${timeoutMs / 1000} s`)),
        timeoutMs,
      );
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        if (!payload.restart) reject(payload.error);
      });
      void consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            const end = ends.get(partition);
            if (end === undefined || BigInt(message.offset) >= end) return; // written after we started
            records.set(`${partition}:${message.offset}`, { partition, message });
            if (BigInt(message.offset) + 1n >= end) pending.delete(partition);
            if (pending.size === 0) resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
  }
  return [...records.values()].sort(
    (a, b) => a.partition - b.partition || Number(BigInt(a.message.offset) - BigInt(b.message.offset)),
  );
}

function lettersOf(records: Fetched[]): DeadLetter[] {
  const letters: DeadLetter[] = [];
  const replayed = new Map<string, string>();
  for (const { partition, message } of records) {
    const headers = message.headers ?? {};
    const text = (name: string) => headerText(headers[name]) ?? "";
    const marker = headerText(headers[deadLetterHeader.replayed]);
    if (marker !== undefined) {
      replayed.set(marker, text(deadLetterHeader.time));
      continue;
    }
    letters.push({
      id: letterId(partition, message.offset),
      partition,
      offset: message.offset,
      time: text(deadLetterHeader.time),
      source: {
        topic: text(deadLetterHeader.topic),
        partition: Number(text(deadLetterHeader.partition)),
        offset: text(deadLetterHeader.offset),
      },
      consumer: text(deadLetterHeader.consumer),
      class: text(deadLetterHeader.class),
      reason: text(deadLetterHeader.reason),
      key: message.key,
      value: message.value,
      headers: Object.fromEntries(Object.entries(headers).filter(([name]) => !isDeadLetterHeader(name))),
      replayed: null,
    });
  }
  for (const letter of letters) letter.replayed = replayed.get(letter.id) ?? null;
  return letters;
}

function headerText(value: IHeaders[string]): string | undefined {
  if (value === undefined) return undefined;
  return (Array.isArray(value) ? value.at(-1) : value)?.toString();
}

/**
 * Puts a letter back on its source topic as it was first written (key, value, its own headers),
 * acknowledged by every in-sync replica, then marks it replayed in the dead-letter topic. Dying in
 * between leaves it replayed but unmarked: replaying it again would deliver it twice.
 */
export async function replayDeadLetter(producer: Producer, topic: string, letter: DeadLetter): Promise<void> {
  await producer.send({
    topic: letter.source.topic,
    acks: -1,
    messages: [{ key: letter.key, value: letter.value, headers: letter.headers }],
  });
  await producer.send({
    topic,
    acks: -1,
    messages: [
      {
        partition: letter.partition,
        key: null,
        value: null,
        headers: {
          [deadLetterHeader.replayed]: letter.id,
          [deadLetterHeader.time]: new Date().toISOString(),
        },
      },
    ],
  });
}
