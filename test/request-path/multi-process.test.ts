import { Redis } from "ioredis";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { eventually } from "../support/eventually.ts";
import { requestIdOf, testKey, testSettings } from "../support/gateway.ts";
import { type GatewayProcess, spawnGateway } from "../support/processes.ts";

/**
 * The distributed shape on real Kafka and Redis: two ingress and two worker processes, each its
 * own OS process. Clients spread over both ingresses; any worker may serve any request.
 */
describe.each(["kafkajs", "platformatic"] as const)(
  "two ingresses and two workers as separate processes, requests on %s",
  (client) => {
    const namespace = `mp${client}${Date.now()}`;
    const settings = testSettings(
      "kafka",
      {
        log: { level: "info" },
        ingress: { workerSilenceMs: 2000 },
        // Few slots per worker, so that work also waits in local queues and in Kafka.
        workers: { concurrency: 8, heartbeatMs: 500 },
        kafka: { sessionTimeoutMs: 6000, client },
      },
      namespace,
    );
    const redis = new Redis(inject("services").redis.url, { keyPrefix: `test-${namespace}:` });
    let ingresses: GatewayProcess[] = [];
    let workers: GatewayProcess[] = [];
    let clients: OpenAI[] = [];

    beforeAll(async () => {
      // The first worker creates the topics and the group; the rest start side by side.
      workers = [await spawnGateway(settings, "worker")];
      [ingresses, workers] = await Promise.all([
        Promise.all([spawnGateway(settings, "ingress"), spawnGateway(settings, "ingress")]),
        spawnGateway(settings, "worker").then((second) => [...workers, second]),
      ]);
      clients = ingresses.map(
        (ingress) => new OpenAI({ baseURL: `${ingress.url}/v1`, apiKey: testKey, maxRetries: 0 }),
      );
    }, 120_000);

    afterAll(async () => {
      for (const process of [...ingresses, ...workers]) process.kill("SIGKILL");
      redis.disconnect();
    });

    /** Streams one chat and returns what the client saw. */
    async function streamChat(
      client: OpenAI,
      content: string,
      onChunk?: (chunk: OpenAI.ChatCompletionChunk) => void,
    ) {
      const stream = await client.chat.completions.create({
        model: "mock",
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: "user", content }],
      });
      let text = "";
      let finish: string | null = null;
      let usage: OpenAI.CompletionUsage | undefined;
      for await (const chunk of stream) {
        onChunk?.(chunk);
        text += chunk.choices[0]?.delta.content ?? "";
        finish = chunk.choices[0]?.finish_reason ?? finish;
        usage = chunk.usage ?? usage;
      }
      return { text, finish, usage };
    }

    it("gives each of 200 concurrent streaming clients exactly its own complete stream", async () => {
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, index) =>
          streamChat(clients[index % 2] as OpenAI, `client ${index} [mock:delay_ms=10]`).then((result) => ({
            index,
            ...result,
          })),
        ),
      );
      for (const { index, text, finish, usage } of results) {
        expect(text).toBe(`You said: client ${index}`);
        expect(finish).toBe("stop");
        expect(usage?.completion_tokens).toBe(4);
      }
      // Both workers took part.
      for (const worker of workers)
        expect(worker.lines.some((line) => line.msg === "worker joined the consumer group")).toBe(true);
    });

    it("serves a provider call longer than Kafka's session timeout without a rebalance", async () => {
      const joinsBefore = workers.map(
        (worker) => worker.lines.filter((line) => line.msg === "worker joined the consumer group").length,
      );
      // 8 s of streaming against a 6 s session timeout: the consume loop must keep heartbeating meanwhile.
      const result = await streamChat(clients[1] as OpenAI, "slow [mock:tokens=80] [mock:delay_ms=100]");
      expect(result.text.split(" ")).toHaveLength(80);
      expect(result.finish).toBe("stop");
      const joinsAfter = workers.map(
        (worker) => worker.lines.filter((line) => line.msg === "worker joined the consumer group").length,
      );
      expect(joinsAfter).toEqual(joinsBefore);
    }, 30_000);

    it("cancels the provider call in the worker when a client disconnects mid-stream", async () => {
      let requestId: string | undefined;
      const abort = new AbortController();
      const stream = await (clients[0] as OpenAI).chat.completions.create(
        {
          model: "mock",
          stream: true,
          messages: [{ role: "user", content: "long [mock:tokens=3000] [mock:delay_ms=20]" }],
        },
        { signal: abort.signal },
      );
      try {
        for await (const chunk of stream) {
          requestId = requestIdOf(chunk.id);
          abort.abort();
        }
      } catch {
        // The SDK reports the abort.
      }
      expect(requestId).toBeDefined();
      // A worker marks a request done when its provider call is over; uncancelled, this one would run for a minute.
      await eventually(async () => expect(await redis.get(`claim:${requestId}`)).toBe("done"), 5_000);
    });

    it("starts an interactive request ahead of a batch backlog", async () => {
      const batchStarts: number[] = [];
      let order = 0;
      const batch = Array.from({ length: 60 }, (_, index) =>
        (clients[index % 2] as OpenAI).chat.completions
          .create(
            {
              model: "mock",
              stream: true,
              messages: [{ role: "user", content: `batch ${index} [mock:tokens=10] [mock:delay_ms=100]` }],
            },
            { headers: { "x-gateway-priority": "batch" } },
          )
          .then(async (stream) => {
            let first = true;
            for await (const _chunk of stream) {
              if (first) batchStarts.push(order++);
              first = false;
            }
          }),
      );
      await eventually(() => expect(batchStarts.length).toBeGreaterThanOrEqual(4));
      let interactiveStart: number | undefined;
      await streamChat(clients[0] as OpenAI, "urgent", () => {
        interactiveStart ??= order++;
      });
      await Promise.all(batch);
      // Batch may use half of each worker's 8 slots: the interactive request finds a free one at once,
      // while most of the backlog (published before it) is still waiting.
      const batchAhead = batchStarts.filter((position) => position < (interactiveStart as number)).length;
      expect(batchAhead).toBeLessThan(20);
      expect(batchStarts).toHaveLength(60);
    }, 60_000);

    it("when a worker dies mid-stream: started streams end with a clear error, the others complete once, nothing hangs", async () => {
      const victim = workers[0] as GatewayProcess;
      const started = new Set<number>();
      const outcomes = Array.from({ length: 30 }, (_, index) =>
        streamChat(
          clients[index % 2] as OpenAI,
          `survivor ${index} [mock:tokens=20] [mock:delay_ms=100]`,
          () => started.add(index),
        ).then(
          (result) => ({ index, ...result, error: undefined as Error | undefined }),
          (error: Error) => ({ index, text: "", finish: null, usage: undefined, error }),
        ),
      );
      // 16 slots for 30 requests: the rest wait, some of them in the victim's local queue.
      await eventually(() => expect(started.size).toBeGreaterThanOrEqual(12));
      victim.kill("SIGKILL");
      const results = await Promise.all(outcomes);

      const failed = results.filter((result) => result.error);
      const completed = results.filter((result) => !result.error);
      expect(failed.length).toBeGreaterThan(0); // the victim held some of them
      // The survivor's own, and those the victim had not begun: redelivered by Kafka, they complete unseen.
      // At most the victim's 8 running requests fail.
      expect(completed.length).toBeGreaterThanOrEqual(30 - 8);
      for (const { error } of failed) {
        expect(error).toBeInstanceOf(OpenAI.APIError);
        expect(error?.message).toMatch(/worker serving this request stopped/);
      }
      for (const { text, finish } of completed) {
        // Never duplicated or mixed text: exactly one execution's answer.
        expect(text.split(" ")).toHaveLength(20);
        expect(text.startsWith("lorem ipsum dolor")).toBe(true);
        expect(finish).toBe("stop");
      }
      workers = workers.slice(1);
    }, 60_000);
  },
);
