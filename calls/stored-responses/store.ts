import type { Caller } from "../../governance/keys/keyring.ts";

/**
 * The Responses API's stored responses (`store: true`): what `previous_response_id` continues and
 * GET /v1/responses/{id} returns. Two implementations, chosen as the batch store is: local disk
 * for one process (the embedded default) and Redis for every process of a deployment.
 */
export interface ResponseStore {
  /**
   * Stores a response until `ttlMs` from now, and keeps the earlier responses of its conversation
   * at least as long, so that a conversation in use never loses its beginning.
   */
  put(record: StoredResponse): Promise<void>;
  /** The tenant's responses of these ids, in order; undefined for one unknown, another tenant's, or expired. */
  get(tenant: string, ids: readonly string[]): Promise<Array<StoredResponse | undefined>>;
  /** False if the tenant has no such response. */
  delete(tenant: string, id: string): Promise<boolean>;
  close(): Promise<void>;
}

/** An item of a conversation, as the Responses API lists it: always with an id. */
export type ConversationItem = Record<string, unknown> & { id: string; type: string };

export interface StoredResponse {
  /** `resp_` and 32 hex digits. */
  id: string;
  tenant: string;
  /** The response object exactly as the caller was sent it (whole, or in the stream's last event). */
  response: Record<string, unknown> & { output: ConversationItem[] };
  /** The items this request added to the conversation (its `input`), each with an id. */
  input: ConversationItem[];
  /** The earlier responses of the conversation, oldest first: the one it continued is last. */
  earlier: string[];
}

/**
 * Whose responses these are: the key's team when it has one (every key of a team shares them, as
 * an OpenAI project's keys do), else the key itself. No tenant reads another's.
 */
export function tenantOf(caller: Caller): string {
  return caller.team !== undefined ? `team:${caller.team}` : `key:${caller.keyId}`;
}

/** Response ids the gateway makes; any other (from a URL or a body) is simply not found. */
export function isResponseId(id: string): boolean {
  return /^resp_[0-9a-f]{32}$/.test(id);
}
