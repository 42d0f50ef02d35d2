import { type ApiShape, errorBody } from "../../calls/errors.ts";
import { GatewayError } from "../../schemas/errors.ts";
import type { InputLine } from "../input.ts";
import { type BatchRecord, doneCount, type LineResult, type ResultCounts } from "../store.ts";

/** How a batch ended, when its files are made. */
export type Ending = "completed" | "expired" | "cancelled";

/** Where a line's result line goes: OpenAI splits answers and errors over two files, Anthropic keeps one. */
export type ResultFile = "output" | "error";

/**
 * One batch API's shapes: its batch object and its result lines. The machinery (store, feeding,
 * results) is the same for every batch API; only what the caller reads differs.
 */
export interface BatchFormat {
  /** The result line of an input line; `result` undefined: the line never ran, for the reason `ending`. */
  resultLine(
    batch: BatchRecord,
    line: InputLine,
    result: LineResult | undefined,
    ending: Ending,
  ): { file: ResultFile; json: unknown };
  /** The batch as the API shows it; `baseUrl` (how the caller reaches this gateway) makes its links. */
  batchObject(batch: BatchRecord, counts: ResultCounts, progress: Progress, baseUrl: string): unknown;
}

/** How far a batch is, for callers watching it (an extension of both APIs' batch objects). */
export interface Progress {
  done: number;
  /** Lines a second since it started, over its whole run so far. */
  linesPerSecond: number;
  /** Seconds until every line is done at that rate; null before there is a rate, or once done. */
  etaSeconds: number | null;
}

export function progressOf(batch: BatchRecord, counts: ResultCounts, nowMs = Date.now()): Progress {
  const done = doneCount(counts);
  const elapsedSeconds = batch.inProgressAt === null ? 0 : Math.max(0.001, nowMs / 1000 - batch.inProgressAt);
  const linesPerSecond = elapsedSeconds > 0 ? done / elapsedSeconds : 0;
  const remaining = batch.total - done;
  const etaSeconds = remaining > 0 && linesPerSecond > 0 ? Math.ceil(remaining / linesPerSecond) : null;
  return { done, linesPerSecond: Math.round(linesPerSecond * 100) / 100, etaSeconds };
}

/** The body a line's answer would have had as a live call of its endpoint's API. */
export function answerBody(line: InputLine, result: LineResult): unknown {
  return line.api.respond(result.completion as NonNullable<LineResult["completion"]>, {
    id: result.requestId.replaceAll("-", ""),
    model: line.parsed.model,
    createdSeconds: result.answeredAt,
    options: line.parsed.render,
  });
}

/** The error body a failed line would have had as a live call, in the batch API's shape. */
export function failureBody(
  failure: NonNullable<LineResult["error"]>,
  shape: ApiShape,
): Record<string, unknown> {
  const { code, message, status, param } = failure;
  const error = new GatewayError(code as GatewayError["code"], message, {
    status,
    ...(param !== null && { param }),
  });
  return errorBody(error, shape);
}
