import type { ReplyEvent } from "../../schemas/reply-event.ts";

/** An answer as the cache keeps it: its reply events, as neutral as the bus's, so any API can replay it. */
export type CachedEvent = Omit<ReplyEvent, "requestId" | "attempt" | "seq">;

export interface CachedAnswer {
  storedAtMs: number;
  events: CachedEvent[];
}

/** Where answers are kept: Redis, shared by every ingress, or this process's memory. */
export interface AnswerStore {
  get(key: string): Promise<CachedAnswer | undefined>;
  set(key: string, answer: CachedAnswer, ttlMs: number): Promise<void>;
  /** Drops every answer of a tenant, of a model, or of both (see `scopeOf`); returns how many. */
  purge(scope: { tenant?: string; model?: string }): Promise<number>;
}
