import { randomUUID } from "node:crypto";
import type { Bus, Delivery, RequestConsumer } from "../bus/contracts.ts";
import type { ModelCatalog } from "../config/model-catalog.ts";
import type { GatewayConfig } from "../config/schema.ts";
import type { Logger } from "../runtime/logger.ts";
import { GatewayError } from "../schemas/errors.ts";
import type { Failure, Usage } from "../schemas/reply-event.ts";
import type { RequestEnvelope } from "../schemas/request-envelope.ts";
import type { Provider } from "./providers/provider.ts";
import { ReplyStream } from "./reply-stream.ts";
import { PriorityScheduler } from "./scheduler.ts";

export interface WorkerOptions {
  bus: Bus;
  config: GatewayConfig["workers"];
  catalog: ModelCatalog;
  providers: Map<string, Provider>;
  log: Logger;
}

export interface RunningWorker {
  readonly id: string;
  /** Requests running now. */
  readonly inFlight: number;
  /** Finishes running requests within `graceMs`, ends the rest with an error, commits, disconnects. */
  stop(graceMs: number): Promise<void>;
}

/** A claim lives this many heartbeats: a dead worker's claims lapse well before Kafka redelivers. */
const claimHeartbeats = 3;
/** How long a finished request is remembered, so a late redelivery of it is skipped. */
const finishedMemoryMs = 60 * 60_000;

class Cancelled extends Error {}

/** Consumes requests from the bus, runs each against its provider and streams the answer back. */
export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const { bus, config, log } = options;
  const id = `worker-${randomUUID().slice(0, 8)}`;
  const running = new Map<string, AbortController>();
  const consumer: RequestConsumer = bus.createConsumer();
  const scheduler = new PriorityScheduler(
    config,
    (delivery) => runRequest(delivery),
    (priority) => consumer.resume(priority),
  );
  const claimTtlMs = config.heartbeatMs * claimHeartbeats;

  async function runRequest(delivery: Delivery): Promise<void> {
    const envelope = delivery.envelope;
    const requestLog = log.child({ requestId: envelope.id });
    try {
      if (Date.now() > envelope.deadlineMs || (await bus.cancels.isCancelled(envelope.id))) return;
      const attempt = `${id}:${randomUUID().slice(0, 8)}`;
      if (!(await bus.claims.claim(envelope.id, attempt, claimTtlMs))) return;
      const abort = new AbortController();
      running.set(envelope.id, abort);
      const deadline = setTimeout(
        () => abort.abort(new GatewayError("timeout", "the request took longer than its deadline")),
        envelope.deadlineMs - Date.now(),
      );
      const replies = new ReplyStream(
        bus.replies,
        envelope.replyTo,
        envelope.id,
        attempt,
        config.heartbeatMs,
        () => {
          void bus.claims.renew(envelope.id, attempt, claimTtlMs).catch(() => {});
        },
      );
      const outcome = await serve(envelope, replies, abort.signal).catch((error: unknown) => {
        const reason = abort.signal.aborted ? abort.signal.reason : error;
        if (reason instanceof Cancelled) return "cancelled" as const;
        const failure = toFailure(reason);
        if (failure.code === "internal")
          requestLog.error({ err: reason }, "request failed inside the worker");
        replies.send({ kind: "failed", failure });
        return "failed" as const;
      });
      clearTimeout(deadline);
      running.delete(envelope.id);
      await replies
        .close()
        .catch((error: Error) => requestLog.warn({ err: error }, "a reply could not be delivered"));
      await bus.claims.finish(envelope.id, finishedMemoryMs);
      requestLog.debug({ outcome }, "request done");
    } catch (error) {
      requestLog.error({ err: error }, "request could not be run");
    } finally {
      delivery.settle();
    }
  }

  async function serve(
    envelope: RequestEnvelope,
    replies: ReplyStream,
    signal: AbortSignal,
  ): Promise<"completed"> {
    const request = envelope.chat ?? envelope.embeddings;
    if (!request)
      throw new GatewayError("invalid_request", "the request carries neither a chat nor an embeddings call");
    const target = options.catalog.resolve(request.model);
    const provider = target && options.providers.get(target.provider);
    if (!target || !provider)
      throw new GatewayError("not_found", `the model ${request.model} is not served here`);
    replies.send({
      kind: "started",
      started: { workerId: id, provider: target.provider, model: target.model },
    });

    const call = { model: target.model, signal };
    if (envelope.chat) {
      for await (const part of provider.chat(envelope.chat, call)) {
        signal.throwIfAborted();
        switch (part.type) {
          case "text-delta":
            replies.send({ kind: "text_delta", choice: part.choice, text: part.text });
            break;
          case "tool-call-delta":
            replies.send({
              kind: "tool_call_delta",
              choice: part.choice,
              toolCall: {
                index: part.index,
                id: part.id ?? null,
                name: part.name ?? null,
                argumentsDelta: part.argumentsDelta,
              },
            });
            break;
          case "finish":
            replies.send({ kind: "finish", choice: part.choice, finishReason: part.reason });
            break;
          case "usage":
            replies.send({ kind: "usage", usage: part.usage });
            break;
          case "response-metadata":
            break;
        }
      }
    } else if (envelope.embeddings) {
      const result = await provider.embed(envelope.embeddings, call);
      for (const [index, vector] of result.vectors.entries()) {
        replies.send({ kind: "embedding", choice: index, embedding: vector });
      }
      replies.send({ kind: "usage", usage: result.usage satisfies Usage });
    }
    replies.send({ kind: "completed" });
    return "completed";
  }

  await bus.cancels.onCancel((requestId) => running.get(requestId)?.abort(new Cancelled()));
  await consumer.start(scheduler);
  log.info({ workerId: id, concurrency: config.concurrency }, "worker started");

  return {
    id,
    get inFlight() {
      return scheduler.inFlight;
    },
    async stop(graceMs) {
      scheduler.stopAccepting();
      await consumer.stop();
      const deadline = Date.now() + graceMs;
      while (scheduler.inFlight > 0 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 50));
      for (const abort of running.values()) {
        abort.abort(
          new GatewayError("overloaded", "the worker serving this request shut down; retry the request"),
        );
      }
      while (scheduler.inFlight > 0) await new Promise((resolve) => setTimeout(resolve, 20));
      await consumer.close();
    },
  };
}

/** Any error as a reply Failure: gateway errors keep their code; anything else is internal. */
function toFailure(error: unknown): Failure {
  if (error instanceof GatewayError) {
    return {
      code: error.code,
      message: error.message,
      status: error.status,
      retryAfterMs: error.details.retryAfterMs ?? null,
    };
  }
  return {
    code: "internal",
    message: "the worker failed while serving the request",
    status: 500,
    retryAfterMs: null,
  };
}
