import { randomBytes } from "node:crypto";
import type { ConversationItem } from "../../stored-responses/store.ts";
import type { Item } from "./request.ts";

const idPrefixes: Record<string, string> = {
  message: "msg",
  function_call: "fc",
  function_call_output: "fco",
  reasoning: "rs",
};

/**
 * Input items as a stored conversation lists them (GET /v1/responses/{id}/input_items): each with
 * an id, the caller's own or a new one, and a message's text as a content part, as OpenAI lists it.
 */
export function conversationItems(items: Item[]): ConversationItem[] {
  return items.map((item) => {
    const type = item.type ?? "message";
    const given = (item as { id?: unknown }).id;
    const id =
      typeof given === "string" && given !== ""
        ? given
        : `${idPrefixes[type] ?? "item"}_${randomBytes(16).toString("hex")}`;
    if (!("role" in item) || typeof item.content !== "string") return { ...item, type, id };
    const part = item.role === "assistant" ? "output_text" : "input_text";
    return { ...item, type, id, content: [{ type: part, text: item.content }] };
  });
}
