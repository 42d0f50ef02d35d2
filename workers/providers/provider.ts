import type { Static, TObject } from "@sinclair/typebox";
import type { FinishReason, Usage } from "../../schemas/reply-event.ts";
import type { ChatRequest, EmbeddingsRequest, InboundApi } from "../../schemas/request-envelope.ts";
import type { TokenizerEncoding } from "../../schemas/token-count.ts";

/**
 * The interface every provider adapter implements (version 1). An adapter translates the gateway's
 * ChatRequest to its provider's wire format and the provider's answer back into typed parts, as
 * they arrive; it never writes SSE or knows about the caller's API.
 */
export type ChatPart =
  | { type: "response-metadata"; model: string }
  | { type: "text-delta"; choice: number; text: string }
  /**
   * A piece of the model's reasoning, where the provider shows it. A block starts with `text` or
   * `redactedData` and ends with its `signature` when the provider signs it (Anthropic).
   */
  | { type: "reasoning-delta"; choice: number; text?: string; signature?: string; redactedData?: string }
  | {
      type: "tool-call-delta";
      choice: number;
      index: number;
      id?: string;
      name?: string;
      argumentsDelta: string;
    }
  | { type: "finish"; choice: number; reason: FinishReason; stopSequence?: string }
  | { type: "usage"; usage: Usage };

export interface CallOptions {
  /** The provider's own model name. */
  model: string;
  /** Aborted when the client goes away or the deadline passes. */
  signal: AbortSignal;
  /** Whether the caller streams; an adapter may still stream from its provider either way. */
  stream: boolean;
  /** The API the caller spoke: `extraJson` holds that API's unmodelled options. */
  inboundApi: InboundApi;
  /** W3C trace context of the call's span (traceparent): sent along, so a self-hosted server can join the trace. */
  traceHeaders?: Record<string, string>;
}

export interface EmbeddingsResult {
  model: string;
  vectors: number[][];
  usage: Usage;
}

/** What counting a request's input tokens needs of a call's options. */
export type CountOptions = Pick<CallOptions, "model" | "signal" | "inboundApi" | "traceHeaders">;

export interface Provider {
  chat(request: ChatRequest, options: CallOptions): AsyncIterable<ChatPart>;
  embed(request: EmbeddingsRequest, options: CallOptions): Promise<EmbeddingsResult>;
  /**
   * The input tokens the provider itself counts for this request (Anthropic's count_tokens, Bedrock
   * CountTokens, Gemini countTokens). A provider without a counting API leaves it out, and the
   * gateway counts or estimates instead.
   */
  countTokens?(request: ChatRequest, options: CountOptions): Promise<number>;
}

/** One registry entry: how to build a provider from its validated options. */
export interface ProviderType<Options extends TObject = TObject> {
  readonly optionsSchema: Options;
  /**
   * It answers inside the worker and calls no service (the mock). Every other type speaks to one,
   * and the conformance suites run it against that service's emulator: a type without one fails them.
   */
  readonly inProcess?: true;
  /**
   * The OpenAI encoding that counts a model's prompts exactly at this type, if it has one:
   * budgets, rate limits and count_tokens count with it; without it, with the gateway's estimate.
   */
  readonly tokenizer?: (model: string) => TokenizerEncoding | undefined;
  create(options: Static<Options>): Provider;
}

export function defineProviderType<Options extends TObject>(
  type: ProviderType<Options>,
): ProviderType<Options> {
  return type;
}
