import type { InboundApi } from "../api.ts";
import { type OpenAIResponsesBody, openAIResponsesBody, parseOpenAIResponses } from "./request.ts";
import { OpenAIResponsesStream, openAIResponsesResponse } from "./response.ts";
import { parseContinuingResponses } from "./stored.ts";

/**
 * OpenAI's Responses API (what Codex speaks), translated at the edge into Chat Completions terms;
 * the edge keeps its responses (stored.ts) for previous_response_id and GET /v1/responses/{id}.
 */
export const openAIResponses: InboundApi<OpenAIResponsesBody> = {
  name: "openai_responses",
  wire: "openai_chat",
  group: "responses",
  path: "/v1/responses",
  shape: "openai",
  bodySchema: openAIResponsesBody,
  streams: true,
  parse: parseOpenAIResponses,
  parseContinuing: parseContinuingResponses,
  respond: openAIResponsesResponse,
  streamRenderer: (context) => new OpenAIResponsesStream(context),
};
