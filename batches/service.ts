import type { CancelChannel } from "../bus/coordination.ts";
import type { RouteTable } from "../config/routes.ts";
import type { GatewayConfig } from "../config/schema.ts";
import { apiAllowed, modelAllowed } from "../governance/access.ts";
import type { Caller } from "../governance/keys/keyring.ts";
import { prefixedId } from "../runtime/ids.ts";
import { GatewayError } from "../schemas/errors.ts";
import { progressOf } from "./formats/format.ts";
import { formats } from "./formats/index.ts";
import { readBatchInput } from "./input.ts";
import { type BatchError, type BatchRecord, type BatchStore, type StoredFile, unixSeconds } from "./store.ts";

/** What the batch APIs of the edge need: the store, the routes to check models, the cancel channel. */
export interface BatchServices {
  store: BatchStore;
  routes: RouteTable;
  cancels: CancelChannel;
  config: GatewayConfig["batches"];
  /** server.bodyDepthLimit: each line's body is held to it as an HTTP body is. */
  bodyDepthLimit: number;
  /** Tells this process's coordinator, if any, that a batch changed (so it need not wait a tick). */
  changed(): void;
}

export interface NewBatch {
  api: BatchRecord["api"];
  caller: Caller;
  tags: Record<string, string>;
  endpoint: string;
  inputFileId: string;
  completionWindow: string;
  metadata: Record<string, string> | null;
}

/** The caller of a batch or file route, if its key may use batches at all. */
export function batchCaller(caller: Caller): Caller {
  if (!apiAllowed(caller, "batches"))
    throw new GatewayError("permission", "this key may not use the batches API");
  return caller;
}

const windowUnits = { s: 1, m: 60, h: 3600 } as const;

/** Seconds in a completion window such as `24h`. */
export function windowSeconds(window: string): number {
  return Number(window.slice(0, -1)) * windowUnits[window.at(-1) as keyof typeof windowUnits];
}

/** Stores an uploaded file after checking it line by line (a batch input must be runnable before it is kept). */
export async function uploadFile(
  services: BatchServices,
  caller: Caller,
  upload: { filename: string; purpose: string; content: Buffer; expiresAfterSeconds: number | null },
): Promise<StoredFile> {
  if (upload.purpose !== "batch")
    throw new GatewayError(
      "invalid_request",
      `purpose must be "batch" (the only one this gateway keeps files for)`,
      {
        param: "purpose",
      },
    );
  const { problems } = readBatchInput(upload.content, {
    maxLines: services.config.maxLines,
    bodyDepth: services.bodyDepthLimit,
  });
  if (problems.length > 0) throw invalidFile(problems);
  const createdAt = unixSeconds();
  const file: StoredFile = {
    id: prefixedId("file-"),
    keyId: caller.keyId,
    filename: upload.filename,
    purpose: "batch",
    bytes: upload.content.length,
    createdAt,
    expiresAt: upload.expiresAfterSeconds === null ? null : createdAt + upload.expiresAfterSeconds,
  };
  await services.store.putFile(file, upload.content);
  return file;
}

function invalidFile(problems: BatchError[]): GatewayError {
  const listed = problems.map((problem) => problem.message).join("; ");
  return new GatewayError("invalid_request", `the file is not a valid batch input: ${listed}`, {
    param: "file",
  });
}

/** A caller's own file (another key's is as unknown as a missing one). */
export async function ownFile(services: BatchServices, caller: Caller, id: string): Promise<StoredFile> {
  const file = await services.store.getFile(id);
  if (!file || file.keyId !== caller.keyId || (file.expiresAt !== null && file.expiresAt <= unixSeconds()))
    throw new GatewayError("not_found", `no file with id ${id}`, { param: "file_id" });
  return file;
}

/**
 * Creates a batch over an uploaded file. Every line must call the batch's endpoint with a model
 * this gateway serves; if one does not, the batch is created `failed` with the lines at fault in
 * its errors, as OpenAI's validation does.
 */
export async function createBatch(services: BatchServices, request: NewBatch): Promise<BatchRecord> {
  const { config, store, routes, bodyDepthLimit } = services;
  if (!config.completionWindows.includes(request.completionWindow))
    throw new GatewayError(
      "invalid_request",
      `completion_window must be one of ${config.completionWindows.join(", ")}`,
      { param: "completion_window" },
    );
  const file = await ownFile(services, request.caller, request.inputFileId);
  if (file.purpose !== "batch")
    throw new GatewayError("invalid_request", `file ${file.id} was not uploaded with purpose "batch"`, {
      param: "input_file_id",
    });
  const content = await store.fileContent(file.id);
  if (!content) throw new GatewayError("not_found", `no file with id ${file.id}`, { param: "input_file_id" });
  const { lines, problems } = readBatchInput(content, {
    maxLines: config.maxLines,
    bodyDepth: bodyDepthLimit,
  });
  const errors = [...problems];
  for (const line of lines) {
    if (errors.length >= 20) break;
    if (line.url !== request.endpoint)
      errors.push({
        code: "invalid_request",
        message: `line ${line.lineNumber}: url ${line.url} differs from the batch's endpoint ${request.endpoint}`,
        line: line.lineNumber,
        param: "url",
      });
    else if (!routes.resolve(line.parsed.model))
      errors.push({
        code: "model_not_found",
        message: `line ${line.lineNumber}: the model ${line.parsed.model} does not exist or is not served by this gateway`,
        line: line.lineNumber,
        param: "body.model",
      });
    else if (!modelAllowed(request.caller, line.parsed.model))
      errors.push({
        code: "model_not_permitted",
        message: `line ${line.lineNumber}: this key may not use the model ${line.parsed.model}`,
        line: line.lineNumber,
        param: "body.model",
      });
  }
  const createdAt = unixSeconds();
  const failed = errors.length > 0;
  const batch: BatchRecord = {
    id: prefixedId(request.api === "anthropic" ? "msgbatch_" : "batch_"),
    api: request.api,
    keyId: request.caller.keyId,
    keyName: request.caller.name ?? null,
    team: request.caller.team ?? null,
    tags: request.tags,
    endpoint: request.endpoint,
    inputFileId: file.id,
    completionWindow: request.completionWindow,
    metadata: request.metadata,
    status: failed ? "failed" : "in_progress",
    total: lines.length,
    fed: 0,
    errors,
    outputFileId: null,
    errorFileId: null,
    createdAt,
    expiresAt: createdAt + windowSeconds(request.completionWindow),
    inProgressAt: failed ? null : createdAt,
    finalizingAt: null,
    completedAt: null,
    failedAt: failed ? createdAt : null,
    expiredAt: null,
    cancellingAt: null,
    cancelledAt: null,
  };
  await store.createBatch(batch);
  services.changed();
  return batch;
}

/** A caller's own batch, made through the batch API `api`. */
export async function ownBatch(
  services: BatchServices,
  caller: Caller,
  id: string,
  api: BatchRecord["api"],
): Promise<BatchRecord> {
  const batch = await services.store.getBatch(id);
  if (!batch || batch.keyId !== caller.keyId || batch.api !== api)
    throw new GatewayError("not_found", `no batch with id ${id}`, { param: "batch_id" });
  return batch;
}

/** Cancels a caller's own batch (stopBatch). */
export async function cancelBatch(
  services: BatchServices,
  caller: Caller,
  id: string,
  api: BatchRecord["api"],
): Promise<BatchRecord> {
  await ownBatch(services, caller, id, api);
  return stopBatch(services, id);
}

/**
 * Stops a batch, whoever made it (the caller's right to was checked before): no more lines are
 * published, and the workers skip those not yet started (the cancel is remembered until the batch
 * would have expired); lines already running finish and are reported.
 */
export async function stopBatch(services: BatchServices, id: string): Promise<BatchRecord> {
  const batch = await services.store.updateBatch(id, (current) =>
    current.status === "in_progress" || current.status === "validating"
      ? { ...current, status: "cancelling", cancellingAt: unixSeconds() }
      : undefined,
  );
  if (batch?.status !== "cancelling")
    throw new GatewayError(
      "invalid_request",
      `a batch that is ${batch?.status ?? "gone"} cannot be cancelled`,
      {
        status: 409,
      },
    );
  await services.cancels.cancel(id, Math.max(60_000, (batch.expiresAt - unixSeconds()) * 1000));
  services.changed();
  return batch;
}

/**
 * The batch as its API shows it (or as `shape`'s API would), with its progress; `baseUrl`: how its
 * caller reaches this gateway.
 */
export async function batchObject(
  services: BatchServices,
  batch: BatchRecord,
  baseUrl = "",
  shape: BatchRecord["api"] = batch.api,
): Promise<unknown> {
  const counts = batch.counts ?? (await services.store.counts(batch.id));
  return formats[shape].batchObject(batch, counts, progressOf(batch, counts), baseUrl);
}
