import type { RequestEnvelope } from "./request-envelope.ts";

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

/**
 * The most tokens a provider can bill for a request's prompt: byte-level tokenizers (OpenAI's,
 * Anthropic's, Gemini's) never make more tokens than the text has UTF-8 bytes, and the prompt's
 * JSON (roles, quotes, field names) has more bytes than the per-message tokens providers add.
 */
export function mostPromptTokens(envelope: Prompted): number {
  return Buffer.byteLength(promptJsonOf(envelope));
}

/** The most tokens a provider can bill for a request's answer: its max_tokens (else `assumed`) for each of its `n` choices. */
export function mostOutputTokens(envelope: RequestEnvelope, assumed: number): number {
  if (!envelope.chat) return 0;
  return (envelope.chat.maxTokens ?? assumed) * envelope.chat.n;
}

export function expectedOutputTokens(envelope: RequestEnvelope): number {
  return envelope.chat?.maxTokens ?? (envelope.chat ? typicalOutputTokens : 0);
}
