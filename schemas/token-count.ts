import { charactersPerToken } from "./request-size.ts";

/** OpenAI's encodings the gateway counts with: o200k_base (gpt-4o and later), cl100k_base (gpt-4, gpt-3.5). */
export type TokenizerEncoding = "o200k_base" | "cl100k_base";

type CountText = (text: string) => number;

const loaded = new Map<TokenizerEncoding, CountText>();
const loading = new Map<TokenizerEncoding, Promise<CountText>>();
/** Text that looks like a special token (`<|endoftext|>`) is counted as the text it is, as OpenAI does with a prompt. */
const asPlainText = { disallowedSpecial: new Set<string>() };

/**
 * Loads an encoding (from gpt-tokenizer: o200k_base takes ~300 ms of CPU and ~70 MB, once per
 * process; see BENCHMARKS.md), so only where it is used: a worker at start, an ingress when a
 * metered call first goes to an OpenAI model.
 */
export function loadTokenizer(encoding: TokenizerEncoding = "o200k_base"): Promise<CountText> {
  let promise = loading.get(encoding);
  if (!promise) {
    const module =
      encoding === "o200k_base"
        ? import("gpt-tokenizer/encoding/o200k_base")
        : import("gpt-tokenizer/encoding/cl100k_base");
    promise = module.then(({ countTokens }) => {
      const count: CountText = (text) => (text ? countTokens(text, asPlainText) : 0);
      loaded.set(encoding, count);
      return count;
    });
    loading.set(encoding, promise);
  }
  return promise;
}

/** An encoding's counter if it is loaded already: counting never waits for a load it did not ask for. */
export function loadedTokenizer(encoding: TokenizerEncoding): CountText | undefined {
  return loaded.get(encoding);
}

/** Text longer than this is counted on its start and scaled: tokenizing costs CPU in proportion to the text. */
const sampledCharacters = 16_000;

/**
 * Tokens in a text, for usage the provider did not report (a stream cut short). o200k_base is
 * OpenAI's encoding; for other providers' models it is an estimate too — which is why such usage
 * is always flagged `usage_estimated`. Before the tokenizer is loaded: four characters a token.
 */
export function countTokens(text: string): number {
  const count = loaded.get("o200k_base");
  if (!count) return Math.ceil(text.length / charactersPerToken);
  if (text.length <= sampledCharacters) return count(text);
  return Math.ceil((count(text.slice(0, sampledCharacters)) * text.length) / sampledCharacters);
}

/** Model names by the encoding OpenAI tokenizes them with, longest prefix first (dated snapshots share their model's). */
const encodingPrefixes: Array<[prefix: string, encoding: TokenizerEncoding]> = [
  ["gpt-4o", "o200k_base"],
  ["chatgpt-4o", "o200k_base"],
  ["gpt-4.1", "o200k_base"],
  ["gpt-4.5", "o200k_base"],
  ["gpt-5", "o200k_base"],
  ["o1", "o200k_base"],
  ["o3", "o200k_base"],
  ["o4", "o200k_base"],
  ["codex-mini", "o200k_base"],
  ["gpt-4", "cl100k_base"],
  ["gpt-3.5-turbo", "cl100k_base"],
  // Azure spells gpt-3.5 without the dot.
  ["gpt-35-turbo", "cl100k_base"],
  ["text-embedding-3", "cl100k_base"],
  ["text-embedding-ada", "cl100k_base"],
];

/**
 * The encoding of an OpenAI model, by its name (a snapshot `gpt-4o-2024-08-06` is its model's);
 * undefined for a name that is not an OpenAI model's (gpt-oss speaks another chat format).
 */
export function openAIEncodingOf(model: string): TokenizerEncoding | undefined {
  const name = model.toLowerCase();
  const found = encodingPrefixes.find(
    ([prefix]) => name === prefix || name.startsWith(`${prefix}-`) || name.startsWith(`${prefix}.`),
  );
  return found?.[1];
}

/**
 * The encoding of a model at OpenAI itself (or Azure OpenAI, whose deployment names are the
 * operator's): a name not recognised is a newer model or a deployment's own name, and every model
 * OpenAI has released since gpt-4o counts with o200k_base.
 */
export function openAIServedEncodingOf(model: string): TokenizerEncoding {
  return openAIEncodingOf(model) ?? "o200k_base";
}
