import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { Type as T } from "@sinclair/typebox";
import { providerStatusError } from "../http/errors.ts";
import { type ChatPart, defineProviderType } from "../provider.ts";
import { countWords, scriptFor } from "./script.ts";

/**
 * The built-in provider that needs no key: it echoes the prompt (or follows the directives in
 * ./script.ts), streams word by word at a configurable rate, calls tools, fails on request and
 * answers embeddings with deterministic unit vectors.
 */
export const mockProvider = defineProviderType({
  inProcess: true,
  optionsSchema: T.Object(
    {
      tokensPerSecond: T.Number({
        minimum: 0,
        default: 0,
        description: "Streaming rate in words per second; 0 sends every word at once.",
      }),
      embeddingDimensions: T.Integer({
        minimum: 1,
        maximum: 4096,
        default: 16,
        description: "Default vector size.",
      }),
    },
    { additionalProperties: false },
  ),
  create(options) {
    return {
      async *chat(request, { model, signal }): AsyncIterable<ChatPart> {
        const script = scriptFor(request);
        if (script.errorStatus !== undefined) {
          // Failing through the same mapping as a real provider's HTTP error.
          throw providerStatusError(
            "mock",
            script.errorStatus,
            `failed with status ${script.errorStatus} as asked`,
            1000,
          );
        }
        const delayMs = script.delayMs ?? (options.tokensPerSecond > 0 ? 1000 / options.tokensPerSecond : 0);
        yield { type: "response-metadata", model };

        let outputTokens = 0;
        for (let choice = 0; choice < request.n; choice++) {
          for (const [index, word] of script.words.entries()) {
            if (delayMs > 0) await sleep(delayMs, undefined, { signal });
            signal.throwIfAborted();
            outputTokens++;
            yield { type: "text-delta", choice, text: index === 0 ? word : ` ${word}` };
          }
          for (const [index, call] of script.toolCalls.entries()) {
            // Arguments arrive in pieces, as real providers stream them.
            const half = Math.ceil(call.argumentsJson.length / 2);
            yield {
              type: "tool-call-delta",
              choice,
              index,
              id: call.id,
              name: call.name,
              argumentsDelta: "",
            };
            for (const piece of [call.argumentsJson.slice(0, half), call.argumentsJson.slice(half)]) {
              if (delayMs > 0) await sleep(delayMs, undefined, { signal });
              yield { type: "tool-call-delta", choice, index, argumentsDelta: piece };
            }
            outputTokens += countWords(call.argumentsJson) + 1;
          }
          yield {
            type: "finish",
            choice,
            reason: script.finishReason,
            ...(script.stopSequence !== undefined && { stopSequence: script.stopSequence }),
          };
        }
        yield {
          type: "usage",
          usage: {
            inputTokens: script.inputTokens,
            outputTokens,
            cachedInputTokens: 0,
            cacheWriteTokens: 0,
            reasoningTokens: 0,
          },
        };
      },

      async embed(request, { model }) {
        const dimensions = request.dimensions ?? options.embeddingDimensions;
        return {
          model,
          vectors: request.input.map((text) => unitVector(text, dimensions)),
          usage: {
            inputTokens: request.input.reduce((sum, text) => sum + countWords(text), 0),
            outputTokens: 0,
            cachedInputTokens: 0,
            cacheWriteTokens: 0,
            reasoningTokens: 0,
          },
        };
      },
    };
  },
});

/** The same text always gets the same vector: a hash stretched to `dimensions`, then normalised. */
function unitVector(text: string, dimensions: number): number[] {
  const values: number[] = [];
  for (let block = 0; values.length < dimensions; block++) {
    const digest = createHash("sha256").update(`${block}:${text}`).digest();
    for (let i = 0; i + 1 < digest.length && values.length < dimensions; i += 2) {
      values.push(digest.readUInt16BE(i) / 32767.5 - 1);
    }
  }
  const norm = Math.hypot(...values) || 1;
  return values.map((value) => value / norm);
}
