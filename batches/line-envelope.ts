import { createHash } from "node:crypto";
import { uuidv7 } from "../runtime/ids.ts";
import type { RequestEnvelope } from "../schemas/request-envelope.ts";
import type { InputLine } from "./input.ts";
import type { BatchRecord } from "./store.ts";

/**
 * The request id of a batch line: the same every time the line is published, so that a line
 * published again (a coordinator restarted mid-feed) is recognised by the workers' claims and
 * runs once. Time-ordered by its batch's creation, as request ids are by arrival.
 */
export function lineRequestId(batch: Pick<BatchRecord, "id" | "createdAt">, index: number): string {
  const seed = createHash("sha256").update(`${batch.id}\0${index}`).digest();
  return uuidv7(batch.createdAt * 1000, seed);
}

/** What a batch line is published as: a request at batch priority whose answer goes to the batch. */
export function lineEnvelope(batch: BatchRecord, line: InputLine, cache: string | null): RequestEnvelope {
  const { parsed } = line;
  return {
    id: lineRequestId(batch, line.index),
    receivedAtMs: Date.now(),
    // Nobody waits for it past the batch's completion window.
    deadlineMs: batch.expiresAt * 1000,
    priority: "batch",
    replyTo: "",
    inboundApi: line.api.wire,
    stream: false,
    countTokens: false,
    caller: {
      keyId: batch.keyId,
      team: null,
      user: parsed.user ?? null,
      tags: batch.keyName ? { ...batch.tags, key: batch.keyName } : batch.tags,
    },
    routing: null,
    cache,
    chat: parsed.chat ?? null,
    embeddings: parsed.embeddings ?? null,
    traceContext: {},
    batch: { batchId: batch.id, line: line.index },
  };
}
