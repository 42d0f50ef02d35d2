import type { InboundApi } from "../api.ts";
import { type OpenAIChatBody, openAIChatBody, parseOpenAIChat } from "./request.ts";
import { OpenAIChatStream, openAIChatResponse } from "./response.ts";

export const openAIChat: InboundApi<OpenAIChatBody> = {
  name: "openai_chat",
  wire: "openai_chat",
  group: "chat",
  path: "/v1/chat/completions",
  shape: "openai",
  bodySchema: openAIChatBody,
  streams: true,
  parse: parseOpenAIChat,
  respond: openAIChatResponse,
  streamRenderer: (context) => new OpenAIChatStream(context),
  streamEnd: { data: "[DONE]" },
};
