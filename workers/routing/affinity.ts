import { createHash } from "node:crypto";
import { charactersPerToken } from "../../schemas/request-size.ts";

/**
 * The affinity key of a request whose prompt is long enough for providers to cache (OpenAI and
 * Anthropic cache prompts of 1024 tokens and more): the tenant and the first `minTokens` of the
 * prompt (tools, then messages, as providers read them). Turns of one conversation, and requests
 * sharing a long system prompt, have the same key; no key below the threshold.
 */
export function promptAffinityKey(tenant: string, promptJson: string, minTokens: number): string | undefined {
  if (minTokens <= 0 || promptJson.length < minTokens * charactersPerToken) return undefined;
  const prefix = promptJson.slice(0, minTokens * charactersPerToken);
  return `${tenant}:${createHash("sha256").update(prefix).digest("base64url")}`;
}
