import type { TSchema } from "@sinclair/typebox";
import type { ApiGroup } from "../../governance/keys/admin-schema.ts";
import type { ReplyEvent } from "../../schemas/reply-event.ts";
import type {
  ChatRequest,
  EmbeddingsRequest,
  InboundApi as InboundApiName,
} from "../../schemas/request-envelope.ts";
import type { ApiShape } from "../errors.ts";
import type { ResponseStore } from "../stored-responses/store.ts";
import type { Completion } from "./completion.ts";

/** What the ingress publishes for one call, made from a validated body. */
export interface ParsedCall {
  model: string;
  stream: boolean;
  chat?: ChatRequest;
  embeddings?: EmbeddingsRequest;
  /** The end user the caller named (OpenAI `user`, Anthropic `metadata.user_id`). */
  user?: string;
  /** Per-call choices of the rendering, e.g. OpenAI's stream_options.include_usage. */
  render: RenderOptions;
  /**
   * For an API that keeps its answers (a stored Response): keeps the answer exactly as the caller
   * is sent it, before the last of it goes out, so that the caller can refer to it at once.
   */
  keep?: (answer: unknown) => Promise<void>;
}

export interface RenderOptions {
  includeUsage?: boolean;
  /** OpenAI embeddings: vectors as base64 of little-endian float32. */
  base64Embeddings?: boolean;
  /** Fields of the request the answer repeats (a Response's instructions, previous_response_id, store). */
  echo?: Record<string, unknown>;
}

/** Identity of one answer, the same in every frame of it. */
export interface AnswerContext {
  id: string;
  model: string;
  createdSeconds: number;
  options: RenderOptions;
}

/** One message of a stream: an SSE event (WebSocket chunk) or a keep-alive. */
export type Frame = { event?: string; data: unknown } | { keepAlive: true };

export interface StreamRenderer {
  /** The frames one reply event becomes (often one, sometimes none or several). */
  render(event: ReplyEvent): Frame[];
  /** Once the stream has ended (completed or failed), the whole answer it carried, for an API that keeps it. */
  answer?(): unknown;
}

/** What a call continues from, for an API that keeps answers: the caller's tenant's stored responses. */
export interface KeptAnswers {
  store: ResponseStore;
  tenant: string;
}

/**
 * One inbound API (OpenAI Chat Completions, Anthropic Messages, OpenAI Embeddings): its route,
 * its body schema, how its body becomes a gateway request and how reply events become its answer.
 */
export interface InboundApi<Body = never> {
  /** The API's name on the WebSocket protocol. */
  readonly name: string;
  /**
   * The API whose semantics the request carries to the workers: options the gateway does not model
   * pass through only to providers speaking it. The Responses API is translated at the edge into
   * Chat Completions terms, so it travels as `openai_chat`.
   */
  readonly wire: InboundApiName;
  /** What a virtual key's `apis` calls this API, to allow or refuse it. */
  readonly group: ApiGroup;
  readonly path: string;
  readonly shape: ApiShape;
  readonly bodySchema: TSchema;
  /** Whether the API can stream at all (embeddings cannot). */
  readonly streams: boolean;
  parse(body: Body): ParsedCall;
  /** Used instead of `parse` at the edge by an API whose calls continue kept answers (previous_response_id). */
  parseContinuing?(body: Body, kept: KeptAnswers): Promise<ParsedCall>;
  respond(completion: Completion, context: AnswerContext): unknown;
  streamRenderer(context: AnswerContext): StreamRenderer;
  /** The frame that ends a stream cleanly, if the API has one (OpenAI's [DONE]). */
  readonly streamEnd?: Frame;
}
