import type { TSchema } from "@sinclair/typebox";
import { admitCount } from "../governance/admission.ts";
import type { ApiGroup } from "../governance/keys/admin-schema.ts";
import type { Caller } from "../governance/keys/keyring.ts";
import { uuidv7 } from "../runtime/ids.ts";
import { GatewayError } from "../schemas/errors.ts";
import type { TokenCount } from "../schemas/reply-event.ts";
import type { InboundApi as InboundApiName } from "../schemas/request-envelope.ts";
import { guardedChat } from "./admit-and-cache.ts";
import type { ParsedCall } from "./apis/api.ts";
import { failureToError } from "./apis/completion.ts";
import { validateBody } from "./apis/validate.ts";
import type { CallServices } from "./call.ts";
import type { PendingRequest } from "./dispatcher.ts";
import type { ApiShape } from "./errors.ts";

/** An inbound API's count of input tokens (Anthropic's /v1/messages/count_tokens). */
export interface CountApi<Body = never> {
  readonly path: string;
  /** The API whose calls it counts, as the workers know it (see InboundApi.wire). */
  readonly wire: InboundApiName;
  /** What a virtual key's `apis` calls the API whose calls it counts: a key that may call it may count. */
  readonly group: ApiGroup;
  readonly shape: ApiShape;
  readonly bodySchema: TSchema;
  parse(body: Body): ParsedCall;
}

export interface CountedTokens {
  inputTokens: number;
  /** Who counted: the provider's counting API, OpenAI's tokenizer (exact) or the gateway's estimate. */
  how: TokenCount;
}

/**
 * Counts a request's input tokens where its route is served: published like a call (so the worker
 * picks the route's first available deployment, with its breakers and failover) but marked
 * `countTokens`, answered by one usage event. It passes the key's access and the route's
 * guardrails (the prompt may leave for a provider's counting API), and nothing else: it holds no
 * budget, takes no rate limit, skips the answer cache and is not recorded in analytics, since no
 * provider bills a count.
 */
export async function countCall(
  api: CountApi<unknown>,
  body: unknown,
  caller: Caller,
  services: CallServices,
  onPending: (pending: PendingRequest) => void,
): Promise<CountedTokens> {
  const parsed = api.parse(validateBody(api.bodySchema, body));
  const chat = parsed.chat;
  if (!chat) throw new GatewayError("invalid_request", "only a chat's tokens can be counted");
  const route = services.routes.resolve(parsed.model);
  if (!route)
    throw new GatewayError(
      "not_found",
      `the model ${parsed.model} does not exist or is not served by this gateway`,
      { param: "model" },
    );
  const requestId = uuidv7();
  admitCount(services.governance, caller, { requestId, group: api.group, model: parsed.model });
  const pending = await services.dispatcher.submit({
    id: requestId,
    // Its caller waits for it before sending the call it counts.
    priority: "interactive",
    inboundApi: api.wire,
    stream: false,
    countTokens: true,
    caller: {
      keyId: caller.keyId,
      team: caller.team ?? null,
      user: caller.user ?? null,
      tags: caller.tags ?? {},
    },
    routing: null,
    chat: route.guardrails
      ? guardedChat(services.governance, caller, requestId, route.guardrails, chat)
      : chat,
    embeddings: null,
  });
  onPending(pending);
  let counted: CountedTokens | undefined;
  for await (const event of pending) {
    if (event.kind === "failed") throw failureToError(event);
    if (event.kind === "usage" && event.usage && event.tokenCount)
      counted = { inputTokens: event.usage.inputTokens, how: event.tokenCount };
  }
  if (!counted) throw new GatewayError("internal", "the count ended without a number");
  return counted;
}
