import { GatewayError } from "../../schemas/errors.ts";
import { type FinishReason, type ReplyEvent, type Usage, zeroUsage } from "../../schemas/reply-event.ts";

/** A block of the model's reasoning: its text, or a redacted block's data, and its signature. */
export interface ReasoningBlock {
  text: string;
  signature: string | null;
  redactedData: string | null;
}

export interface CompletedChoice {
  reasoning: ReasoningBlock[];
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

/**
 * Reads reply events to the end; a `failed` event becomes a thrown GatewayError, and so does an
 * end without `completed` (see callerWentAway).
 */
export async function collect(events: AsyncIterable<ReplyEvent>): Promise<Completion> {
  let completed = false;
  const choices: CompletedChoice[] = [];
  const embeddings: number[][] = [];
  let usage = zeroUsage;
  const choice = (index: number): CompletedChoice => {
    choices[index] ??= emptyChoice();
    return choices[index];
  };
  for await (const event of events) {
    switch (event.kind) {
      case "text_delta":
        if (event.reasoning) addReasoning(choice(event.choice).reasoning, event.reasoning);
        else choice(event.choice).text += event.text ?? "";
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
      case "completed":
        completed = true;
        break;
      default:
        break;
    }
  }
  if (!completed) throw callerWentAway();
  if (choices.length === 0 && embeddings.length === 0) {
    throw new GatewayError("internal", "the answer ended without content");
  }
  return {
    choices: Array.from(choices, (item) => item ?? emptyChoice()),
    embeddings,
    usage,
  };
}

/**
 * A call's reply events end with neither `completed` nor `failed` only when it was cancelled: its
 * caller went away (calls/dispatcher.ts). Not the gateway's failure, so not logged as one.
 */
export const callerWentAway = () =>
  new GatewayError("cancelled", "the caller went away before the answer was complete");

export const emptyChoice = (): CompletedChoice => ({
  reasoning: [],
  text: "",
  toolCalls: [],
  finishReason: "stop",
});

/**
 * Adds a reasoning delta to the blocks so far: text continues the last block until it is signed;
 * a signature ends it; redacted data is a block of its own.
 */
export function addReasoning(blocks: ReasoningBlock[], delta: NonNullable<ReplyEvent["reasoning"]>): void {
  if (delta.redactedData !== null) {
    blocks.push({ text: "", signature: null, redactedData: delta.redactedData });
    return;
  }
  let last = blocks.at(-1);
  if (!last || last.signature !== null || last.redactedData !== null) {
    last = { text: "", signature: null, redactedData: null };
    blocks.push(last);
  }
  last.text += delta.text;
  if (delta.signature !== null) last.signature = delta.signature;
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
      param: failure?.param ?? undefined,
    },
  );
}
