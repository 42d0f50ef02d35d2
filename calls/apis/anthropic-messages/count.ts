import { type Static, Type as T } from "@sinclair/typebox";
import type { CountApi } from "../../count.ts";
import { anthropicMessagesBody, parseAnthropicMessages } from "./request.ts";

/** A count_tokens body: the Messages body, max_tokens optional (Anthropic's takes none; a client may send one). */
export const anthropicCountBody = T.Object({
  ...anthropicMessagesBody.properties,
  max_tokens: T.Optional(anthropicMessagesBody.properties.max_tokens),
});

/**
 * Anthropic's count_tokens. The chat to count is the call the same Messages body would make, at max_tokens 1 (see
 * RequestEnvelope.countTokens), never streamed.
 */
export const anthropicCountTokens: CountApi<Static<typeof anthropicCountBody>> = {
  path: "/v1/messages/count_tokens",
  wire: "anthropic_messages",
  group: "messages",
  shape: "anthropic",
  bodySchema: anthropicCountBody,
  parse: (body) => parseAnthropicMessages({ ...body, max_tokens: 1, stream: false }),
};
