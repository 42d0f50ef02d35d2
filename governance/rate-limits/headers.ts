import type { RateDecision, RateWindow } from "../contracts.ts";

/**
 * The x-ratelimit-* headers OpenAI sends, for the caller's own limits (the tightest of its key's
 * and team's): limit, remaining and reset of requests and tokens per minute.
 */
export function rateLimitHeaders(decision: RateDecision): Record<string, string> {
  return { ...windowHeaders("requests", decision.requests), ...windowHeaders("tokens", decision.tokens) };
}

function windowHeaders(kind: "requests" | "tokens", window: RateWindow | undefined): Record<string, string> {
  if (!window) return {};
  return {
    [`x-ratelimit-limit-${kind}`]: String(window.limit),
    [`x-ratelimit-remaining-${kind}`]: String(Math.max(0, window.remaining)),
    [`x-ratelimit-reset-${kind}`]: duration(window.resetMs),
  };
}

/** OpenAI's form of a duration: 20ms, 1s, 6m0s. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.ceil(ms))}ms`;
  const seconds = Math.ceil(ms / 1000);
  return seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m${seconds % 60}s`;
}
