import { createRequire } from "node:module";
import { Writable } from "node:stream";
import { type Consumer, logLevel } from "kafkajs";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { createKafka } from "../../bus/kafka/client.ts";
import { gatewayLevel } from "../../bus/kafka/kafkajs-log.ts";
import { ensureTopics, gatewayTopics } from "../../bus/kafka/topics.ts";
import { eventually } from "../support/eventually.ts";
import { testConfig } from "../support/gateway.ts";

interface Line {
  level: number;
  msg: string;
  component?: string;
  error?: unknown;
}

/** A logger whose lines (debug and up) land in `lines`. */
function capture() {
  const lines: Line[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const text of String(chunk).split("\n")) if (text) lines.push(JSON.parse(text) as Line);
      done();
    },
  });
  return { lines, log: pino({ level: "debug" }, destination) };
}

const levels = { debug: 20, info: 30, warn: 40, error: 50 };
const kafkajsLines = (lines: Line[]) => lines.filter((line) => line.component === "kafkajs");
const mentionsRebalance = (line: Line) => /rebalanc/i.test(`${line.msg} ${String(line.error ?? "")}`);

/** What the gateway's kafkajs clients log, and at which level: routine group changes are no errors. */
describe("kafkajs logs", () => {
  const consumers: Consumer[] = [];
  afterAll(async () => {
    await Promise.allSettled(consumers.map((consumer) => consumer.disconnect()));
  });

  it("logs a routine rebalance (a second consumer joining a group, then leaving) at info", async () => {
    const { lines, log } = capture();
    const config = testConfig("kafka").kafka;
    const kafka = createKafka(config, log);
    const admin = kafka.admin();
    await admin.connect();
    const topic = `${config.topicPrefix}rebalance`;
    await admin.createTopics({ topics: [{ topic, numPartitions: 4 }], waitForLeaders: true });
    await admin.disconnect();
    const groupId = `${config.topicPrefix}workers`;
    const join = async () => {
      const consumer = kafka.consumer({
        groupId,
        sessionTimeout: 6000,
        heartbeatInterval: 300,
        maxWaitTimeInMs: 100,
      });
      consumers.push(consumer);
      const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({ eachMessage: async () => {} });
      await joined;
      return consumer;
    };
    await join();
    const second = await join();
    await second.disconnect();
    // The first consumer hears of each change at its next heartbeat and rejoins.
    await eventually(
      () => expect(kafkajsLines(lines).filter(mentionsRebalance).length).toBeGreaterThan(1),
      15_000,
    );

    const rebalance = kafkajsLines(lines).filter(mentionsRebalance);
    expect(rebalance.map(({ level, msg }) => `${level} ${msg}`)).toEqual(
      rebalance.map(({ msg }) => `${levels.info} ${msg}`),
    );
    // Nor any other line about the group's comings and goings (other errors, e.g. a partition
    // whose leader is being elected, are not this test's business).
    const aboutTheGroup = (line: Line) =>
      /rebalanc|group|coordinator|member/i.test(`${line.msg} ${String(line.error ?? "")}`);
    expect(kafkajsLines(lines).filter((line) => line.level >= levels.error && aboutTheGroup(line))).toEqual(
      [],
    );
  }, 60_000);

  it("logs a partition whose leader is being elected or has moved (a broker's start) at info, other broker errors still at error", () => {
    // What a new cluster's first requests are answered (`ai-gateway cluster up`): kafkajs retries them.
    const { errorCodes } = createRequire(import.meta.url)("kafkajs/src/protocol/error.js") as {
      errorCodes: Array<{ type: string; message: string }>;
    };
    const answered = (type: string) => ({
      timestamp: new Date().toISOString(),
      logger: "kafkajs",
      message: "Response ListOffsets(key: 2, version: 3)",
      error: errorCodes.find((code) => code.type === type)?.message,
    });
    expect(gatewayLevel(logLevel.ERROR, answered("NOT_LEADER_FOR_PARTITION"))).toBe("info");
    expect(gatewayLevel(logLevel.ERROR, answered("LEADER_NOT_AVAILABLE"))).toBe("info");
    expect(gatewayLevel(logLevel.ERROR, answered("MESSAGE_TOO_LARGE"))).toBe("error");
    expect(gatewayLevel(logLevel.ERROR, answered("TOPIC_AUTHORIZATION_FAILED"))).toBe("error");
  });

  it("does not report two processes creating the gateway's topics at once as an error", async () => {
    // Each try starts three processes' worth of ensureTopics together on fresh topics; a try where
    // the broker happened to serve them one after the other shows nothing, so it is made again.
    for (let attempt = 0; ; attempt++) {
      const { lines, log } = capture();
      const config = testConfig("kafka").kafka;
      const admins = Array.from({ length: 3 }, () => createKafka(config, log).admin());
      await Promise.all(admins.map((admin) => admin.connect()));
      try {
        await Promise.all(admins.map((admin) => ensureTopics(admin, config)));
        const existing = await admins[0]?.listTopics();
        expect(existing).toEqual(expect.arrayContaining(gatewayTopics(config)));
      } finally {
        await Promise.all(admins.map((admin) => admin.disconnect()));
      }
      const raced = kafkajsLines(lines).filter(({ msg }) => msg.startsWith("Response CreateTopics"));
      if (raced.length === 0 && attempt < 5) continue;
      expect(raced.length).toBeGreaterThan(0);
      const aboutCreation = (line: Line) => /creat|exist/i.test(`${line.msg} ${String(line.error ?? "")}`);
      expect(kafkajsLines(lines).filter((line) => line.level >= levels.info && aboutCreation(line))).toEqual(
        [],
      );
      return;
    }
  }, 60_000);

  it("names each topic it could not create and why", async () => {
    const { log } = capture();
    const config = { ...testConfig("kafka").kafka, replicationFactor: 3 }; // a broker of one
    const admin = createKafka(config, log).admin();
    await admin.connect();
    try {
      await expect(ensureTopics(admin, config)).rejects.toThrow(
        new RegExp(
          `cannot create topics: .*${config.topicPrefix.replace(".", "\\.")}requests\\.interactive: Replication-factor is invalid`,
        ),
      );
    } finally {
      await admin.disconnect();
    }
  });
});
