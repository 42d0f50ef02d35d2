import { Type as T } from "@sinclair/typebox";
import { reasoningEfforts } from "../../schemas/chat-request.ts";

/** OpenAI's `reasoning_effort` (Chat Completions) and `reasoning.effort` (Responses): one list, checked at the edge. */
export const reasoningEffortSchema = T.Union(
  [T.Null(), ...reasoningEfforts.map((effort) => T.Literal(effort))],
  { description: `expected one of ${reasoningEfforts.map((effort) => `"${effort}"`).join(", ")}` },
);
