import type { Delivery } from "../bus/contracts.ts";
import type { RequestEnvelope } from "../schemas/request-envelope.ts";

/** The gateway's estimate wherever it has no tokenizer's count: four characters a token. */
export const charactersPerToken = 4;
/** Output assumed for a request that sets no limit. */
export const typicalOutputTokens = 500;

/** What a prompt is read from: a request's chat or embeddings input (the ingress has no whole envelope yet). */
export type Prompted = Pick<RequestEnvelope, "chat" | "embeddings">;

const prompts = new WeakMap<Prompted, string>();

/** The prompt as providers read it (tools, then messages; or the texts to embed), as JSON; computed once per request. */
export function promptJsonOf(envelope: Prompted): string {
  let json = prompts.get(envelope);
  if (json === undefined) {
    json = JSON.stringify(
      envelope.chat ? [envelope.chat.tools, envelope.chat.messages] : envelope.embeddings?.input,
    );
    prompts.set(envelope, json);
  }
  return json;
}

export function estimatedPromptTokens(envelope: Prompted): number {
  return Math.ceil(promptJsonOf(envelope).length / charactersPerToken);
}

export function expectedOutputTokens(envelope: RequestEnvelope): number {
  return envelope.chat?.maxTokens ?? (envelope.chat ? typicalOutputTokens : 0);
}

/** Prompt and expected output of a delivered request: what it will cost a provider account, roughly. */
export function estimatedTokens(delivery: Delivery): number {
  return estimatedPromptTokens(delivery.envelope) + expectedOutputTokens(delivery.envelope);
}
