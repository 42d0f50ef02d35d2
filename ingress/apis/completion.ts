import { GatewayError } from "../../schemas/errors.ts";
import type { FinishReason, ReplyEvent, Usage } from "../../schemas/reply-event.ts";

export interface CompletedChoice {
  text: string;
  toolCalls: Array<{ id: string; name: string; arguments: string }>;
  finishReason: FinishReason;
  stopSequence?: string;
}

/** A whole answer, gathered from its reply events, for the non-streaming form of any API. */
export interface Completion {
  choices: CompletedChoice[];
  embeddings: number[][];
  usage: Usage;
}

const noUsage: Usage = {
  inputTokens: 0,
  outputTokens: 0,
  cachedInputTokens: 0,
  cacheWriteTokens: 0,
  reasoningTokens: 0,
};

/** Reads reply events to the end; a `failed` event becomes a thrown GatewayError. */
export async function collect(events: AsyncIterable<ReplyEvent>): Promise<Completion> {
  const choices: CompletedChoice[] = [];
  const embeddings: number[][] = [];
  let usage = noUsage;
  const choice = (index: number): CompletedChoice => {
    choices[index] ??= { text: "", toolCalls: [], finishReason: "stop" };
    return choices[index];
  };
  for await (const event of events) {
    switch (event.kind) {
      case "text_delta":
        choice(event.choice).text += event.text ?? "";
        break;
      case "tool_call_delta": {
        const delta = event.toolCall;
        if (!delta) break;
        const calls = choice(event.choice).toolCalls;
        calls[delta.index] ??= { id: delta.id ?? "", name: delta.name ?? "", arguments: "" };
        (calls[delta.index] as CompletedChoice["toolCalls"][number]).arguments += delta.argumentsDelta;
        break;
      }
      case "finish":
        choice(event.choice).finishReason = event.finishReason ?? "stop";
        if (event.stopSequence !== null) choice(event.choice).stopSequence = event.stopSequence;
        break;
      case "usage":
        usage = event.usage ?? usage;
        break;
      case "embedding":
        embeddings[event.choice] = event.embedding ?? [];
        break;
      case "failed":
        throw failureToError(event);
      default:
        break;
    }
  }
  if (choices.length === 0 && embeddings.length === 0) {
    throw new GatewayError("internal", "the answer ended without content");
  }
  return {
    choices: Array.from(choices, (item) => item ?? { text: "", toolCalls: [], finishReason: "stop" }),
    embeddings,
    usage,
  };
}

/** A reply's Failure as the GatewayError the ingress maps to the caller's shape. */
export function failureToError(event: ReplyEvent): GatewayError {
  const failure = event.failure;
  return new GatewayError(
    (failure?.code ?? "internal") as GatewayError["code"],
    failure?.message ?? "the request failed",
    {
      status: failure?.status,
      retryAfterMs: failure?.retryAfterMs ?? undefined,
    },
  );
}
