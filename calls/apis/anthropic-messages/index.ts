import type { InboundApi } from "../api.ts";
import { type AnthropicMessagesBody, anthropicMessagesBody, parseAnthropicMessages } from "./request.ts";
import { AnthropicMessagesStream, anthropicMessagesResponse } from "./response.ts";

export const anthropicMessages: InboundApi<AnthropicMessagesBody> = {
  name: "anthropic_messages",
  wire: "anthropic_messages",
  group: "messages",
  path: "/v1/messages",
  shape: "anthropic",
  bodySchema: anthropicMessagesBody,
  streams: true,
  parse: parseAnthropicMessages,
  respond: anthropicMessagesResponse,
  streamRenderer: (context) => new AnthropicMessagesStream(context),
};
