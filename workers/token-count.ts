import { charactersPerToken } from "../schemas/request-size.ts";

type CountTokens = (text: string) => number;

let count: CountTokens | undefined;

/**
 * Loads the tokenizer (OpenAI's o200k_base, from gpt-tokenizer: ~300 ms and ~70 MB, once per
 * worker process, so not on the ingress). Counts before it is loaded use four characters a token.
 */
export async function loadTokenizer(): Promise<void> {
  count ??= (await import("gpt-tokenizer/encoding/o200k_base")).countTokens;
}

/** Text longer than this is counted on its start and scaled: tokenizing costs ~10 ms per 1,000 tokens of CPU. */
const sampledCharacters = 16_000;

/**
 * Tokens in a text, for usage the provider did not report (a stream cut short). o200k_base is
 * OpenAI's encoding; for other providers' models it is an estimate too — which is why such usage
 * is always flagged `usage_estimated`.
 */
export function countTokens(text: string): number {
  if (!count) return Math.ceil(text.length / charactersPerToken);
  if (text.length <= sampledCharacters) return count(text);
  return Math.ceil((count(text.slice(0, sampledCharacters)) * text.length) / sampledCharacters);
}
