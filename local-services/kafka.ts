import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { logLevel } from "kafkajs";
import { startChildProcessService } from "../runtime/child-process-service.ts";
import { freePort } from "../runtime/free-port.ts";
import { newKafka } from "../runtime/kafkajs.ts";
import { classpathCached, mavenClasspath } from "./maven.ts";
import { type LocalServiceOptions, launch, type RunningLocalService } from "./service.ts";

const run = promisify(execFile);
const here = fileURLToPath(new URL("./kafka/", import.meta.url));
const pom = join(here, "pom.xml");

/**
 * Starts a single-node KRaft Kafka broker (broker and controller in one JVM) from Maven Central
 * jars, with its data in `workDir` (kept: a broker started again there has its topics and offsets).
 * Started again in the same `workDir`, it listens on the ports it had (its controller's address is
 * part of its quorum's state), unless other `ports` are given.
 */
export async function startLocalKafka(
  workDir: string,
  options: LocalServiceOptions & { ports?: KafkaPorts } = {},
): Promise<RunningLocalService<{ brokers: string[] }> & { ports: KafkaPorts }> {
  const classpath = await mavenClasspath(pom, "kafka");
  const properties = join(workDir, "server.properties");
  const { broker: brokerPort, controller: controllerPort } = options.ports ??
    portsIn(properties) ?? {
      broker: await freePort(),
      controller: await freePort(),
    };
  writeFileSync(
    properties,
    [
      "process.roles=broker,controller",
      "node.id=1",
      `listeners=PLAINTEXT://127.0.0.1:${brokerPort},CONTROLLER://127.0.0.1:${controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${brokerPort}`,
      "controller.listener.names=CONTROLLER",
      "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
      `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
      `log.dirs=${join(workDir, "logs")}`,
      // One node: every internal topic has one replica, or group coordination never becomes available.
      "offsets.topic.replication.factor=1",
      "transaction.state.log.replication.factor=1",
      "transaction.state.log.min.isr=1",
      "share.coordinator.state.topic.replication.factor=1",
      "share.coordinator.state.topic.min.isr=1",
      "group.initial.rebalance.delay.ms=0",
      "auto.create.topics.enable=false",
      // A small single node: few threads, so that it competes less for the cores with the gateway's processes.
      "num.network.threads=2",
      "num.io.threads=2",
      "background.threads=2",
    ].join("\n"),
  );
  const java = [
    "-Xms256m",
    "-Xmx512m",
    "-XX:+UseSerialGC",
    `-Dlog4j2.configurationFile=${join(here, "log4j2.properties")}`,
    "-cp",
    classpath,
  ];
  const clusterId = kafkaClusterId();
  const formatted = existsSync(join(workDir, "logs", "meta.properties"));
  if (!formatted)
    await run("java", [
      ...java,
      "kafka.tools.StorageTool",
      "format",
      "-t",
      clusterId,
      "-c",
      properties,
    ]).catch((error: Error & { stderr?: string; code?: string }) => {
      const reason = error.code === "ENOENT" ? "java is not on the PATH" : error.stderr || error.message;
      throw new Error(`formatting Kafka's storage failed: ${reason}`);
    });

  const brokers = [`127.0.0.1:${brokerPort}`];
  const service = await startChildProcessService({
    name: "Kafka broker",
    ...launch(["java", ...java, "kafka.Kafka", properties], options),
    isReady: () => brokerAnswers(brokers),
    startTimeoutMs: 90_000,
  });
  return {
    endpoint: { brokers },
    ports: { broker: brokerPort, controller: controllerPort },
    pid: service.pid,
    stop: () => service.stop(),
  };
}

/** True when Kafka's jars are cached: its first start fetches them with Maven, later ones need no Maven. */
export function kafkaJarsCached(): boolean {
  return classpathCached(pom, "kafka");
}

export interface KafkaPorts {
  broker: number;
  controller: number;
}

/** The ports of the broker configured in `properties`, if one was. */
function portsIn(properties: string): KafkaPorts | undefined {
  if (!existsSync(properties)) return undefined;
  const listeners = /^listeners=PLAINTEXT:\/\/127\.0\.0\.1:(\d+),CONTROLLER:\/\/127\.0\.0\.1:(\d+)$/m.exec(
    readFileSync(properties, "utf8"),
  );
  return listeners ? { broker: Number(listeners[1]), controller: Number(listeners[2]) } : undefined;
}

/** True when a broker answers at `brokers` and has a controller (it can take topics and groups). */
export async function brokerAnswers(brokers: string[]): Promise<boolean> {
  const admin = newKafka({
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 1_000,
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 && cluster.controller !== null;
  } finally {
    await admin.disconnect();
  }
}

/** A cluster id as Kafka makes one: a random UUID in base64url, redrawn when it starts with "-",
 * which StorageTool's argument parser would read as an option (1 run in 64 failed that way). */
function kafkaClusterId(): string {
  for (;;) {
    const id = Buffer.from(randomUUID().replaceAll("-", ""), "hex").toString("base64url");
    if (!id.startsWith("-")) return id;
  }
}
