import { GatewayError } from "../../../schemas/errors.ts";
import type { ChatRequest, ContentPart } from "../../../schemas/request-envelope.ts";
import { reasoningBudget } from "../reasoning.ts";

type Part = Record<string, unknown>;

/**
 * The gateway's ChatRequest as a Gemini `generateContent` body: system and developer messages
 * become `systemInstruction`, assistant turns are `model` turns, tool results are
 * `functionResponse` parts named after the call they answer (Gemini matches results by function
 * name, not by id).
 */
export function toGeminiBody(request: ChatRequest) {
  const callNames = new Map<string, string>();
  for (const message of request.messages) {
    for (const part of message.content)
      if (part.kind === "tool_call" && part.toolCallId) callNames.set(part.toolCallId, part.toolName ?? "");
  }
  const system = request.messages
    .filter((message) => message.role === "system" || message.role === "developer")
    .flatMap((message) => message.content.map((part) => ({ text: part.text ?? "" })));
  const contents = request.messages
    .filter((message) => message.role !== "system" && message.role !== "developer")
    .map((message, index) => ({
      role: message.role === "assistant" ? "model" : "user",
      parts: message.content.map((part, partIndex) =>
        toPart(part, callNames, `messages.${index}.content.${partIndex}`),
      ),
    }));
  const format = request.responseFormat;
  const generationConfig = {
    ...(request.temperature !== null && { temperature: request.temperature }),
    ...(request.topP !== null && { topP: request.topP }),
    ...(request.maxTokens !== null && { maxOutputTokens: request.maxTokens }),
    ...(request.stop.length > 0 && { stopSequences: request.stop }),
    ...(request.n !== 1 && { candidateCount: request.n }),
    ...(request.seed !== null && { seed: request.seed }),
    ...(format && format.type !== "text" && { responseMimeType: "application/json" }),
    ...(format?.type === "json_schema" &&
      format.schemaJson !== null && { responseJsonSchema: JSON.parse(format.schemaJson) }),
    ...(request.reasoning && { thinkingConfig: thinkingConfig(request.reasoning) }),
  };
  return {
    contents,
    ...(system.length > 0 && { systemInstruction: { parts: system } }),
    ...(request.tools.length > 0 && {
      tools: [
        {
          functionDeclarations: request.tools.map((tool) => ({
            name: tool.name,
            ...(tool.description !== null && { description: tool.description }),
            parametersJsonSchema: JSON.parse(tool.parametersJson),
          })),
        },
      ],
    }),
    ...(request.toolChoice && { toolConfig: { functionCallingConfig: functionCalling(request.toolChoice) } }),
    ...(Object.keys(generationConfig).length > 0 && { generationConfig }),
  };
}

function toPart(part: ContentPart, callNames: Map<string, string>, at: string): Part {
  switch (part.kind) {
    case "text":
      return { text: part.text ?? "" };
    case "image": {
      if (part.image?.data)
        return {
          inlineData: {
            mimeType: part.image.mediaType ?? "image/png",
            data: part.image.data.toString("base64"),
          },
        };
      const inline = /^data:([^;,]+);base64,(.*)$/s.exec(part.image?.url ?? "");
      if (inline) return { inlineData: { mimeType: inline[1], data: inline[2] } };
      // Fetching a caller's URL from inside the gateway would let callers make it reach any host.
      throw new GatewayError(
        "invalid_request",
        `${at}: the gemini provider takes images inline (base64 or a data: URL), not by URL`,
        {
          param: at,
        },
      );
    }
    case "tool_call":
      return { functionCall: { name: part.toolName, args: JSON.parse(part.argumentsJson || "{}") } };
    case "tool_result":
      return {
        functionResponse: {
          name: callNames.get(part.toolCallId ?? "") ?? part.toolCallId,
          response: part.isError ? { error: part.text ?? "" } : { result: part.text ?? "" },
        },
      };
  }
}

/** Gemini thinks within a token budget (0: not at all) and shows its thoughts only when asked. */
function thinkingConfig(reasoning: NonNullable<ChatRequest["reasoning"]>): Part {
  const budget = reasoningBudget(reasoning);
  return { thinkingBudget: budget, includeThoughts: budget > 0 };
}

function functionCalling(choice: NonNullable<ChatRequest["toolChoice"]>): Part {
  switch (choice.mode) {
    case "auto":
      return { mode: "AUTO" };
    case "none":
      return { mode: "NONE" };
    case "required":
      return { mode: "ANY" };
    case "tool":
      return { mode: "ANY", allowedFunctionNames: [choice.toolName] };
  }
}
