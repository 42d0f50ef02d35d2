import type { Usage } from "../../schemas/reply-event.ts";

/**
 * Usage from a provider that counts cached input apart from the rest of the prompt (Anthropic,
 * Bedrock): the gateway's inputTokens is the whole prompt, cache reads and writes included.
 */
export function usageWithCacheApart(counts: {
  input?: number | null;
  output?: number | null;
  cacheRead?: number | null;
  cacheWrite?: number | null;
}): Usage {
  const cacheRead = counts.cacheRead ?? 0;
  const cacheWrite = counts.cacheWrite ?? 0;
  return {
    inputTokens: (counts.input ?? 0) + cacheRead + cacheWrite,
    outputTokens: counts.output ?? 0,
    cachedInputTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
    reasoningTokens: 0,
  };
}
