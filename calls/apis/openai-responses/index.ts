import type { InboundApi } from "../api.ts";
import { type OpenAIResponsesBody, openAIResponsesBody, parseOpenAIResponses } from "./request.ts";
import { OpenAIResponsesStream, openAIResponsesResponse } from "./response.ts";

/** OpenAI's Responses API (what Codex speaks), translated at the edge into Chat Completions terms. */
export const openAIResponses: InboundApi<OpenAIResponsesBody> = {
  name: "openai_responses",
  wire: "openai_chat",
  group: "responses",
  path: "/v1/responses",
  shape: "openai",
  bodySchema: openAIResponsesBody,
  streams: true,
  parse: parseOpenAIResponses,
  respond: openAIResponsesResponse,
  streamRenderer: (context) => new OpenAIResponsesStream(context),
};
