import type { Logger } from "../../runtime/logger.ts";
import type { ReplyEvent } from "../../schemas/reply-event.ts";
import type { PendingRequest } from "../dispatcher.ts";
import type { KeptStatus } from "./hit-event.ts";
import type { SemanticIndex } from "./semantic-index.ts";
import type { AnswerStore, CachedAnswer, CachedEvent } from "./store.ts";

/**
 * An answer the first of concurrent identical calls hands to the others: one it found kept (they
 * got a hit too) or one a provider made for it (they were coalesced into its call).
 */
export interface SharedAnswer {
  answer: CachedAnswer;
  status: KeptStatus;
  similarity?: number;
}

/** The first of concurrent identical calls, which the others wait for; settling twice is harmless. */
export interface Lead {
  settle(shared: SharedAnswer | undefined): void;
}

/** Where a kept answer goes in the semantic index, and the vector of its request. */
export interface SemanticEntry {
  scope: string;
  vector: number[];
  maxEntries: number;
}

/** What the cache did for a call, as the `x-gateway-cache` response header says it. */
export type CacheStatus =
  | "hit"
  | "semantic-hit"
  | "coalesced"
  | "miss"
  | "refresh"
  | "bypass"
  | "unavailable";

/** Reply events that are part of the answer (not liveness or the end marker). */
const answerKinds = new Set<ReplyEvent["kind"]>([
  "text_delta",
  "tool_call_delta",
  "finish",
  "usage",
  "embedding",
]);

/**
 * The exact answer cache at the ingress. A hit is replayed as the reply events it was made of, so
 * every API renders it as it renders a fresh answer, streamed or whole. An answer is stored only
 * once it completed: never a failure, never a stream cut short, never tool calls the model made
 * at a temperature above 0 (the next call could rightly make others). The store failing (Redis
 * down) never fails a call: the cache is skipped and says so.
 */
export class AnswerCache {
  private warnedAtMs = 0;
  private readonly inFlight = new Map<string, Promise<SharedAnswer | undefined>>();

  constructor(
    private readonly store: AnswerStore,
    private readonly semantic: SemanticIndex,
    private readonly maxEntryBytes: number,
    private readonly log: Logger,
  ) {}

  /** The kept request nearest to this one (semantic cache); undefined when none or the index is down. */
  async nearest(scope: string, vector: number[]): Promise<{ key: string; similarity: number } | undefined> {
    try {
      return await this.semantic.nearest(scope, vector);
    } catch (error) {
      this.warn(error);
      return undefined;
    }
  }

  async lookup(key: string): Promise<CachedAnswer | "unavailable" | undefined> {
    try {
      return await this.store.get(key);
    } catch (error) {
      this.warn(error);
      return "unavailable";
    }
  }

  /** Drops the answers of a tenant (key id), a model, or both; returns how many. */
  purge(scope: { tenant?: string; model?: string }): Promise<number> {
    return this.store.purge(scope);
  }

  /** The cached answer as a request's event stream. */
  replay(requestId: string, answer: CachedAnswer): PendingRequest {
    return {
      id: requestId,
      cancel: () => {},
      async *[Symbol.asyncIterator]() {
        let seq = 0;
        for (const event of answer.events) yield { ...event, requestId, attempt: "cache", seq: seq++ };
        yield { ...endEvent, requestId, attempt: "cache", seq };
      },
    };
  }

  /**
   * Joins an identical call already on its way through this ingress (`follow`: its answer, or
   * undefined if it gives none to keep), or becomes the one others join (`lead`, to settle with
   * the answer). Concurrent identical misses are so coalesced into one provider call.
   */
  join(key: string): { follow: Promise<SharedAnswer | undefined> } | { lead: Lead } {
    const leading = this.inFlight.get(key);
    if (leading) return { follow: leading };
    let settle: (shared: SharedAnswer | undefined) => void = () => {};
    const result = new Promise<SharedAnswer | undefined>((resolve) => {
      settle = resolve;
    });
    this.inFlight.set(key, result);
    return {
      lead: {
        settle: (shared) => {
          settle(shared);
          if (this.inFlight.get(key) === result) this.inFlight.delete(key);
        },
      },
    };
  }

  /**
   * The request's events, unchanged, and its answer stored once it has completed (if it may be);
   * the lead, if any, is settled with it — or with nothing when the answer is not kept or the
   * client went away before the end (followers then call the provider themselves).
   */
  recording(
    pending: PendingRequest,
    key: string,
    ttlMs: number,
    toolCallsCacheable: boolean,
    lead: Lead | undefined,
    semantic?: SemanticEntry,
  ): PendingRequest {
    const cache = this;
    return {
      id: pending.id,
      cancel: () => pending.cancel(),
      async *[Symbol.asyncIterator]() {
        const events: CachedEvent[] = [];
        let cacheable = true;
        try {
          for await (const event of pending) {
            if (event.kind === "failed") cacheable = false;
            if (event.kind === "tool_call_delta" && !toolCallsCacheable) cacheable = false;
            if (answerKinds.has(event.kind)) events.push(withoutIdentity(event));
            if (event.kind === "completed" && cacheable) {
              const answer = cache.keep(key, events, ttlMs, semantic);
              lead?.settle(answer && { answer, status: "coalesced" });
            }
            yield event;
          }
        } finally {
          lead?.settle(undefined);
        }
      },
    };
  }

  private keep(
    key: string,
    events: CachedEvent[],
    ttlMs: number,
    semantic: SemanticEntry | undefined,
  ): CachedAnswer | undefined {
    const answer: CachedAnswer = { storedAtMs: Date.now(), events };
    if (JSON.stringify(answer).length > this.maxEntryBytes) return undefined;
    this.store
      .set(key, answer, ttlMs)
      .then(() => semantic && this.semantic.add(semantic.scope, key, semantic.vector, semantic.maxEntries))
      .catch((error: unknown) => this.warn(error));
    return answer;
  }

  /** Once a minute at most: a store that is down would otherwise log on every request. */
  private warn(error: unknown): void {
    if (Date.now() - this.warnedAtMs < 60_000) return;
    this.warnedAtMs = Date.now();
    this.log.warn({ err: error }, "the answer cache is unavailable; calls go to the providers");
  }
}

function withoutIdentity(event: ReplyEvent): CachedEvent {
  const { requestId: _id, attempt: _attempt, seq: _seq, ...rest } = event;
  return rest;
}

const endEvent: CachedEvent = {
  kind: "completed",
  choice: 0,
  text: null,
  reasoning: null,
  started: null,
  toolCall: null,
  finishReason: null,
  stopSequence: null,
  usage: null,
  costNanoUsd: null,
  tokenCount: null,
  embedding: null,
  failure: null,
};
