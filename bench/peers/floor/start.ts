import { freePort } from "../../../runtime/free-port.ts";
import type { ServiceEndpoints } from "../../../test/services/endpoints.ts";
import { benchProviderKey } from "../../chat-call.ts";
import { type ChildRpc, forkChild } from "../../kafka-clients/rpc.ts";
import { createTopics } from "../../kafka-clients/trial.ts";
import type { RunningTarget } from "../target.ts";
import type { FloorSetup } from "./setup.ts";

const settleTimeoutMs = 90_000;

/**
 * The design's floor: the parts every gateway on this design needs and nothing else — a fastify
 * ingress publishing each call on Kafka (@platformatic/kafka, the cheaper client), two workers
 * making it on the upstream and answering over Redis pub/sub, commits every 200 ms. No key, no
 * routing, no claim, no events, no analytics, no Avro: what it costs, ours cannot cost less.
 * `servicePids` are Kafka's and Redis's.
 */
export async function startFloor(
  upstreamUrl: string,
  services: ServiceEndpoints,
  servicePids: number[],
  partitions: number,
): Promise<RunningTarget> {
  const prefix = `floor-${Date.now()}-`;
  const setup: FloorSetup = {
    brokers: services.kafka.brokers,
    requestTopics: ["interactive", "default", "batch"].map((priority) => `${prefix}requests-${priority}`),
    workerGroup: `${prefix}workers`,
    redisUrl: services.redis.url,
    upstreamUrl,
    port: await freePort(),
  };
  await createTopics(setup.brokers, setup.requestTopics, partitions);
  const children: ChildRpc[] = [];
  const stop = () => Promise.all(children.map((child) => child.stop())).then(() => {});
  try {
    const workers = [0, 1].map(() => forkChild(new URL("./worker.ts", import.meta.url), setup));
    children.push(...workers);
    await settled(workers, setup.requestTopics.length * partitions);
    const ingress = forkChild(new URL("./ingress.ts", import.meta.url), setup);
    children.push(ingress);
    await new Promise<void>((resolve) => ingress.onEvent((event) => event === "ready" && resolve()));
    return {
      origin: `http://127.0.0.1:${setup.port}`,
      headers: { authorization: `Bearer ${benchProviderKey}` },
      pids: children.map((child) => child.pid),
      servicePids,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Resolves once each worker owns some of the request partitions and together they own them all. */
function settled(workers: ChildRpc[], partitions: number): Promise<void> {
  const owned = new Map<ChildRpc, number>();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the floor's workers did not settle in ${settleTimeoutMs / 1000} s`)),
      settleTimeoutMs,
    );
    for (const worker of workers)
      worker.onEvent((event, data) => {
        if (event === "assigned") owned.set(worker, data as number);
        const counts = workers.map((each) => owned.get(each) ?? 0);
        if (counts.every((count) => count > 0) && counts.reduce((a, b) => a + b) === partitions) {
          clearTimeout(timer);
          resolve();
        }
      });
  });
}
