import type { Route } from "../../config/routes.ts";
import type { ChatRequest } from "../../schemas/request-envelope.ts";
import type { AnswerCache, SemanticEntry } from "./answer-cache.ts";
import { scopeOf } from "./key.ts";
import type { CachedAnswer } from "./store.ts";

/** What the semantic cache found for a request the exact cache missed. */
export interface SimilarAnswer {
  /** A kept answer to a request similar enough, and how similar (cosine). */
  found?: { answer: CachedAnswer; similarity: number };
  /** Where this request's own answer goes in the index once it is kept. */
  entry?: SemanticEntry;
}

/** The longest text embedded for a request: its last characters, where the question is. */
const maxCharacters = 8000;

/**
 * Looks for a kept answer to a similar request, in the tenant's answers of the same model: the
 * conversation's text is embedded by the model's embedding model (a call through the gateway's
 * own providers), and the nearest kept request within the threshold wins. Only for requests where
 * that is safe — no tools, temperature 0 — unless the model says otherwise. Any failure on the way
 * (embedding call, index) just means no semantic hit.
 */
export async function findSimilarAnswer(
  cache: AnswerCache,
  embed: (model: string, text: string) => Promise<number[] | undefined>,
  route: Route,
  chat: ChatRequest | undefined,
  tenant: string,
): Promise<SimilarAnswer> {
  const semantic = route.semanticCache;
  if (!semantic || !chat) return {};
  if (!semantic.unsafe && (chat.tools.length > 0 || chat.temperature !== 0)) return {};
  const vector = await embed(semantic.embeddingModel, conversationText(chat));
  if (!vector) return {};
  const scope = scopeOf(tenant, chat.model);
  const entry = { scope, vector, maxEntries: semantic.maxEntries };
  const nearest = await cache.nearest(scope, vector);
  if (!nearest || nearest.similarity < semantic.threshold) return { entry };
  const answer = await cache.lookup(nearest.key);
  if (!answer || answer === "unavailable") return { entry };
  return { found: { answer, similarity: nearest.similarity }, entry };
}

function conversationText(chat: ChatRequest): string {
  const text = chat.messages
    .map((message) => `${message.role}: ${message.content.map((part) => part.text ?? "").join(" ")}`)
    .join("\n");
  return text.slice(-maxCharacters);
}
