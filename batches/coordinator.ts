import { createHash } from "node:crypto";
import type { Bus } from "../bus/bus.ts";
import { type AdmittedCall, admitAndCache, keptWhenAnswered } from "../calls/admit-and-cache.ts";
import type { AnswerCache } from "../calls/cache/answer-cache.ts";
import { cacheHitEvent } from "../calls/cache/hit-event.ts";
import { cacheKey } from "../calls/cache/key.ts";
import type { CachedAnswer } from "../calls/cache/store.ts";
import { rejectedRequest } from "../calls/request-record.ts";
import type { RouteTable } from "../config/routes.ts";
import type { GatewayConfig } from "../config/schema.ts";
import type { Admission } from "../governance/admission.ts";
import type { Logger } from "../runtime/logger.ts";
import type { BatchLineResult } from "../schemas/batch-line-result.ts";
import { GatewayError } from "../schemas/errors.ts";
import { type Usage, zeroUsage } from "../schemas/reply-event.ts";
import type { RequestEnvelope } from "../schemas/request-envelope.ts";
import type { Ending } from "./formats/format.ts";
import { formats } from "./formats/index.ts";
import { type InputLine, readBatchInput } from "./input.ts";
import { lineEnvelope } from "./line-envelope.ts";
import { type LineGovernance, lineCaller, routeOf, settleLine } from "./line-governance.ts";
import { failedLine, lineFacts, pendingOf, recordedLine } from "./line-result.ts";
import type { BatchMetrics } from "./metrics.ts";
import { type BatchRecord, type BatchStore, doneCount, isFinal, noCounts, unixSeconds } from "./store.ts";

export interface CoordinatorOptions {
  id: string;
  bus: Bus;
  store: BatchStore;
  routes: RouteTable;
  /** The exact answer cache: lines of cached routes are answered from it and fill it, as requests do. */
  cache: AnswerCache;
  config: GatewayConfig["batches"];
  metrics: BatchMetrics;
  log: Logger;
  /** The policy of keys (budgets, model access, guardrails) over their batches' lines. */
  lines: LineGovernance;
}

/** Lines published between two checks of the batch's status (a cancel stops feeding within one). */
const feedChunk = 200;

/**
 * Runs batch jobs. Any number of coordinators may run (one per process of the `batch` role, or
 * inside `all`): each batch is fed, expired and finalized by the one holding its lease, and the
 * results of every batch are stored by whichever coordinator the bus hands them to.
 *
 * - Feeding publishes the batch's lines to the batch-priority topic, a chunk at a time, and
 *   checkpoints how far it got (`fed`); the workers' scheduler gives them the capacity that
 *   interactive traffic leaves.
 * - Workers send each finished line to the batch results (a Kafka topic); storing a result is
 *   idempotent (the first result of a line wins), so a result delivered twice is counted once.
 * - A batch whose lines all have a result is finalized: its output and error files are written
 *   in input order. One past its completion window expires: the lines without a result are
 *   reported as expired. A cancelled one stops feeding, waits for the lines already published
 *   to report (run, or skipped by the workers), then is finalized as cancelled.
 */
export class BatchCoordinator {
  private readonly feeding = new Map<string, Promise<void>>();
  private readonly owned = new Set<string>();
  private readonly finalBatches = new Set<string>();
  private readonly consumer;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = false;
  private loggedFailureAtMs = 0;

  constructor(private readonly options: CoordinatorOptions) {
    this.consumer = options.bus.createBatchResultConsumer();
  }

  async start(): Promise<void> {
    await this.consumer.start((results) => this.storeResults(results));
    this.timer = setInterval(() => this.tick(), this.options.config.tickMs);
    this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.ticking;
    await Promise.all(this.feeding.values());
    await this.consumer.close();
  }

  /** Looks at every unfinished batch now (tests and the API call it after a change, not to wait a tick). */
  tick(): Promise<void> {
    this.ticking ??= this.step()
      .catch((error: Error) => {
        // Once a minute at most: a store that is down would otherwise log every tick.
        if (Date.now() - this.loggedFailureAtMs < 60_000) return;
        this.loggedFailureAtMs = Date.now();
        this.options.log.error({ err: error }, "batch coordination failed; retrying every tick");
      })
      .finally(() => {
        this.ticking = undefined;
      });
    return this.ticking;
  }

  private async step(): Promise<void> {
    const { store, config } = this.options;
    for (const id of await store.activeBatches()) {
      if (this.stopped) return;
      if (!(await store.lease(id, this.options.id, config.leaseMs))) {
        this.owned.delete(id);
        continue;
      }
      const takenOver = !this.owned.has(id);
      this.owned.add(id);
      await this.advance(id, takenOver);
    }
    this.options.metrics.batchesOwned.set(this.owned.size);
  }

  private async advance(id: string, takenOver: boolean): Promise<void> {
    const { store, bus, config } = this.options;
    let batch = await store.getBatch(id);
    if (!batch || isFinal(batch.status)) {
      this.owned.delete(id);
      return;
    }
    if (!(await store.getFile(batch.inputFileId))) return this.failMissingInput(batch);
    if (batch.status === "finalizing") return this.finalize(batch, "completed");
    if (unixSeconds() >= batch.expiresAt) return this.finalize(batch, "expired");
    if (batch.status === "cancelling") {
      if (this.feeding.has(id)) return; // its feed stops at the next chunk
      const waitedMs = (unixSeconds() - (batch.cancellingAt ?? unixSeconds())) * 1000;
      if (waitedMs >= config.cancelGraceMs || (await this.everyFedLineReported(batch)))
        return this.finalize(batch, "cancelled");
      return;
    }
    if (takenOver && !bus.retainsRequests && batch.fed > 0) {
      // What was published in process died with the process that published it: publish again.
      batch = (await store.updateBatch(id, (current) => ({ ...current, fed: 0 }))) ?? batch;
    }
    const counts = await store.counts(id);
    if (doneCount(counts) >= batch.total) return this.finalize(batch, "completed");
    if (batch.fed < batch.total && !this.feeding.has(id)) {
      const feeding = this.feed(batch)
        .catch((error: Error) =>
          this.options.log.error({ err: error, batchId: id }, "feeding a batch failed"),
        )
        .finally(() => this.feeding.delete(id));
      this.feeding.set(id, feeding);
    }
  }

  /** Publishes the lines from the checkpoint on, skipping those with a result; stops when the batch does. */
  private async feed(from: BatchRecord): Promise<void> {
    const { store } = this.options;
    const lines = await this.inputLines(from);
    const answered = await store.results(from.id);
    let fed = from.fed;
    while (fed < lines.length) {
      const batch = await store.getBatch(from.id);
      if (this.stopped || !batch || batch.status !== "in_progress" || !this.owned.has(from.id)) return;
      // `from` may be older than a feed that ended meanwhile: never publish again what the record says was.
      fed = Math.max(fed, batch.fed);
      const chunk = lines.slice(fed, fed + feedChunk).filter((line) => !answered.has(line.index));
      await Promise.all(chunk.map((line) => this.publishLine(batch, line)));
      fed = Math.min(lines.length, fed + feedChunk);
      const reached = fed;
      await store.updateBatch(from.id, (current) =>
        current.fed >= reached ? undefined : { ...current, fed: reached },
      );
    }
  }

  /** One line to the workers, unless its key's policy refuses it or the answer cache has its answer. */
  private async publishLine(batch: BatchRecord, line: InputLine): Promise<void> {
    const { cache, bus, lines } = this.options;
    const envelope = lineEnvelope(batch, line, null);
    let admitted: AdmittedCall;
    try {
      const caller = lineCaller(lines, envelope);
      admitted = await admitAndCache(
        { governance: lines.governance, cache },
        {
          caller,
          group: line.api.group,
          route: routeOf(lines.governance.routes, line.parsed.model),
          envelope,
          cache: { mode: "use", ttlSeconds: null },
          batch: { holdMs: Math.max(1000, envelope.deadlineMs - Date.now()) },
        },
      );
      envelope.caller.team = caller.team ?? null;
      envelope.caller.tags = { ...envelope.caller.tags, ...caller.tags };
    } catch (error) {
      if (error instanceof GatewayError) return this.refuseLine(envelope, error);
      throw error;
    }
    envelope.cache = admitted.cacheStatus ?? null;
    if (admitted.kept) return this.answerFromCache(envelope, admitted.kept.answer, admitted.admission);
    await bus.requests.publish(envelope);
    this.options.metrics.linesPublished.inc();
  }

  /** A line its key's policy refused (a revoked key, a spent budget): failed with the reason, never run. */
  private async refuseLine(envelope: RequestEnvelope, refusal: GatewayError): Promise<void> {
    const line = envelope.batch as NonNullable<RequestEnvelope["batch"]>;
    const result = failedLine(refusal, envelope.id, unixSeconds());
    if (!(await this.options.store.putResult(line.batchId, line.line, result))) return;
    this.options.metrics.linesStored.inc({ outcome: result.outcome });
    await this.options.bus.events.publishRequest(
      rejectedRequest(lineFacts(envelope, this.options.id), refusal, refusal.status),
    );
  }

  /** A line the answer cache answered: stored as its result, its budget hold settled at nothing. */
  private async answerFromCache(
    envelope: RequestEnvelope,
    kept: CachedAnswer,
    admission: Admission,
  ): Promise<void> {
    const { bus, store, cache } = this.options;
    const line = envelope.batch as NonNullable<RequestEnvelope["batch"]>;
    const facts = lineFacts(envelope, this.options.id);
    const { result, event } = await recordedLine(cache.replay(envelope.id, kept), facts, "hit", true);
    admission.end(event ?? { costNanoUsd: 0, priced: true, usage: null, provider: "" });
    if (!(await store.putResult(line.batchId, line.line, result))) return;
    this.options.metrics.linesStored.inc({ outcome: result.outcome });
    const hit = cacheHitEvent(
      envelope,
      facts.modelRequested,
      kept,
      facts.receivedAtMs,
      this.options.id,
      "hit",
    );
    await Promise.all([
      bus.events.publishAttempt({ ...hit, batchId: line.batchId }),
      event && bus.events.publishRequest(event),
    ]);
  }

  /** How long the route of `model` keeps answers; 0: it caches none. */
  private cacheTtlSeconds(model: string): number {
    return this.options.routes.resolve(model)?.cacheTtlSeconds ?? 0;
  }

  /** Stores the workers' results; a line's first result wins, later ones (and those of finished batches) are dropped. */
  private async storeResults(results: BatchLineResult[]): Promise<void> {
    await Promise.all(results.map((result) => this.storeResult(result)));
  }

  private async storeResult({ envelope, events }: BatchLineResult): Promise<void> {
    const { store, cache, bus } = this.options;
    const line = envelope.batch;
    if (!line || (await this.isFinished(line.batchId))) return;
    let pending = pendingOf(envelope.id, events);
    const ttlSeconds = this.cacheTtlSeconds(envelope.chat?.model ?? envelope.embeddings?.model ?? "");
    if (ttlSeconds > 0 && envelope.cache === "miss") {
      const key = cacheKey(envelope.caller.keyId, envelope.inboundApi, {
        chat: envelope.chat ?? null,
        embeddings: envelope.embeddings ?? null,
      });
      pending = keptWhenAnswered(cache, key, ttlSeconds, envelope.chat, pending);
    }
    const { result, event } = await recordedLine(
      pending,
      lineFacts(envelope, this.options.id),
      envelope.cache ?? "",
      false,
    );
    // Cut by the end of its batch's window: the batch's expiry reports it, as a line that did not run in time.
    if (result.error?.code === "timeout" && Date.now() >= envelope.deadlineMs) return;
    if (!(await store.putResult(line.batchId, line.line, result))) return;
    this.options.metrics.linesStored.inc({ outcome: result.outcome });
    if (event) await settleLine(this.options.lines, envelope, event);
    if (event) await bus.events.publishRequest(event);
  }

  /** Whether a batch is over (its results are no longer taken); a finished batch stays finished. */
  private async isFinished(batchId: string): Promise<boolean> {
    if (this.finalBatches.has(batchId)) return true;
    const batch = await this.options.store.getBatch(batchId);
    if (batch && !isFinal(batch.status)) return false;
    this.finalBatches.add(batchId);
    return true;
  }

  /** A cancelled batch is over once every line it published has reported (run, or skipped by a worker). */
  private async everyFedLineReported(batch: BatchRecord): Promise<boolean> {
    const results = await this.options.store.results(batch.id);
    for (let index = 0; index < batch.fed; index++) if (!results.has(index)) return false;
    return true;
  }

  /** Writes the output and error files, in input order, and ends the batch. Safe to run again if cut short. */
  private async finalize(initial: BatchRecord, ending: Ending): Promise<void> {
    const { store } = this.options;
    let batch = initial;
    if (ending === "completed" && batch.status === "in_progress") {
      batch =
        (await store.updateBatch(batch.id, (current) =>
          current.status === "in_progress"
            ? { ...current, status: "finalizing", finalizingAt: unixSeconds() }
            : undefined,
        )) ?? batch;
      if (batch.status !== "finalizing") return;
    }
    const lines = await this.inputLines(batch);
    const results = await store.results(batch.id);
    const format = formats[batch.api];
    const files = { output: [] as string[], error: [] as string[] };
    const usage: Usage = { ...zeroUsage };
    const counts = noCounts();
    for (const line of lines) {
      const result = results.get(line.index);
      if (result) counts[result.outcome]++;
      const { file, json } = format.resultLine(batch, line, result, ending);
      files[file].push(JSON.stringify(json));
      const used = result?.completion?.usage;
      if (used) for (const kind of Object.keys(usage) as Array<keyof Usage>) usage[kind] += used[kind];
    }
    const outputFileId = await this.writeResultFile(batch, "output", files.output);
    const errorFileId = await this.writeResultFile(batch, "error", files.error);
    const endedAt = unixSeconds();
    await store.updateBatch(batch.id, (current) =>
      isFinal(current.status)
        ? undefined
        : {
            ...current,
            status: ending,
            outputFileId,
            errorFileId,
            usage,
            counts,
            ...(ending === "completed" && { completedAt: endedAt }),
            ...(ending === "expired" && { expiredAt: endedAt }),
            ...(ending === "cancelled" && { cancelledAt: endedAt }),
          },
    );
    this.finalBatches.add(batch.id);
    this.owned.delete(batch.id);
    await store.deleteResults(batch.id);
    this.options.metrics.batchesFinished.inc({ status: ending });
    this.options.log.info({ batchId: batch.id, ending, lines: lines.length }, "batch finished");
  }

  /** Its input file was deleted while it ran: nothing more can run or be reported in order. */
  private async failMissingInput(batch: BatchRecord): Promise<void> {
    const failedAt = unixSeconds();
    await this.options.store.updateBatch(batch.id, (current) =>
      isFinal(current.status)
        ? undefined
        : {
            ...current,
            status: "failed",
            failedAt,
            errors: [
              {
                code: "input_file_deleted",
                message: `the input file ${batch.inputFileId} was deleted while the batch ran`,
                line: null,
                param: "input_file_id",
              },
            ],
          },
    );
    this.owned.delete(batch.id);
    this.options.metrics.batchesFinished.inc({ status: "failed" });
  }

  /** A result file's id is made from its batch's, so a finalization done again replaces it rather than adding one. */
  private async writeResultFile(
    batch: BatchRecord,
    kind: "output" | "error",
    lines: string[],
  ): Promise<string | null> {
    if (lines.length === 0) return null;
    const id = `file-${createHash("sha256").update(`${batch.id}\0${kind}`).digest("hex").slice(0, 24)}`;
    const content = Buffer.from(`${lines.join("\n")}\n`);
    await this.options.store.putFile(
      {
        id,
        keyId: batch.keyId,
        filename: `${batch.id}_${kind}.jsonl`,
        purpose: "batch_output",
        bytes: content.length,
        createdAt: unixSeconds(),
        expiresAt: null,
      },
      content,
    );
    return id;
  }

  private async inputLines(batch: BatchRecord): Promise<InputLine[]> {
    const content = await this.options.store.fileContent(batch.inputFileId);
    if (!content) throw new Error(`the input file ${batch.inputFileId} of batch ${batch.id} is gone`);
    // Limits were checked when the file was accepted; the lines must be read as they were then.
    return readBatchInput(content, {
      maxLines: Number.POSITIVE_INFINITY,
      bodyDepth: Number.POSITIVE_INFINITY,
    }).lines;
  }
}
