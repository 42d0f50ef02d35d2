import { createHash } from "node:crypto";
import type { ChatRequest, EmbeddingsRequest, InboundApi } from "../../schemas/request-envelope.ts";

/**
 * The cache key of a request: a hash of the tenant, the API its options belong to, and the
 * gateway's own form of the request (model, messages, tools, every option that changes the answer)
 * with object keys sorted — so the caller's field order and whitespace do not matter, and one
 * tenant's answer is never another's. Streaming or not does not change the answer: both share it.
 */
export function cacheKey(
  tenant: string,
  inboundApi: InboundApi,
  request: { chat: ChatRequest | null; embeddings: EmbeddingsRequest | null },
): string {
  const hash = createHash("sha256");
  hash.update(tenant).update("\0").update(inboundApi).update("\0");
  hash.update(
    canonical({ chat: request.chat && withSortedExtra(request.chat), embeddings: request.embeddings }),
  );
  return hash.digest("base64url");
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
