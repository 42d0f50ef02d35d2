import { createHash } from "node:crypto";
import type { ChatRequest, EmbeddingsRequest, InboundApi } from "../../schemas/request-envelope.ts";

/**
 * The cache key of a request: its scope (tenant and model), then a hash of the API its options belong to and the
 * gateway's own form of the request (model, messages, tools, every option that changes the answer)
 * with object keys sorted — so the caller's field order and whitespace do not matter, and one
 * tenant's answer is never another's. Streaming or not does not change the answer: both share it.
 */
export function cacheKey(
  tenant: string,
  inboundApi: InboundApi,
  request: { chat: ChatRequest | null; embeddings: EmbeddingsRequest | null },
): string {
  const model = request.chat?.model ?? request.embeddings?.model ?? "";
  const hash = createHash("sha256");
  hash.update(inboundApi).update("\0");
  hash.update(
    canonical({ chat: request.chat && withSortedExtra(request.chat), embeddings: request.embeddings }),
  );
  return `${scopeOf(tenant, model)}${hash.digest("base64url")}`;
}

/**
 * The start of every key of a tenant's answers from one model: `<tenant>/<model>/`, the model
 * percent-encoded so that a purge can select by either. The tenant (a key id) is hex.
 */
export function scopeOf(tenant: string, model: string): string {
  return `${tenant}/${encodeURIComponent(model)}/`;
}

/** Unmodelled options arrive as the caller wrote them; their order must not matter either. */
function withSortedExtra(chat: ChatRequest): ChatRequest {
  return chat.extraJson === null ? chat : { ...chat, extraJson: canonical(JSON.parse(chat.extraJson)) };
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (item && typeof item === "object" && !Array.isArray(item)) {
      if ((item as { type?: unknown }).type === "Buffer") return item;
      return Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return item;
  });
}

/** Whether a key belongs to a purge's scope: a tenant, a model, or both. */
export function scopeMatcher(scope: { tenant?: string; model?: string }): (key: string) => boolean {
  const model = scope.model === undefined ? undefined : `/${encodeURIComponent(scope.model)}/`;
  return (key) =>
    (scope.tenant === undefined || key.startsWith(`${scope.tenant}/`)) &&
    (model === undefined || key.slice(key.indexOf("/")).startsWith(model));
}

/** The same scope as a Redis SCAN pattern (glob characters of the model escaped). */
export function scopePattern(scope: { tenant?: string; model?: string }): string {
  const glob = (text: string) => text.replace(/[*?[\]\\]/g, "\\$&");
  return `${scope.tenant === undefined ? "*" : glob(scope.tenant)}/${scope.model === undefined ? "*" : glob(encodeURIComponent(scope.model))}/*`;
}
