import type { Guardrails } from "../../config/routes.ts";
import type { PiiKind } from "../../config/routes-schema.ts";
import type { ChatRequest } from "../../schemas/request-envelope.ts";
import { redactPii } from "./pii.ts";

export type GuardrailAction =
  | { kind: "redact"; counts: Partial<Record<PiiKind, number>> }
  /** `rule`: the deny list entry's index, never the text it matched. */
  | { kind: "deny"; rule: number };

/**
 * A chat request through a route's guardrails: every text it sends (system, user and assistant
 * text, tool calls' arguments, tool results) is checked against the deny list, then redacted.
 * Images and reasoning signatures are left as they are. Returns the request to send (the same
 * object when nothing changed) and what was done.
 */
export function applyGuardrails(
  guardrails: Guardrails,
  chat: ChatRequest,
): { chat: ChatRequest; action?: GuardrailAction } {
  const texts = textsOf(chat);
  const rule = guardrails.deny.findIndex((pattern) => texts.some((text) => pattern.test(text)));
  if (rule >= 0) return { chat, action: { kind: "deny", rule } };
  if (guardrails.redact.length === 0) return { chat };
  const counts: Partial<Record<PiiKind, number>> = {};
  const clean = (text: string | null): string | null => {
    if (text === null) return null;
    const redacted = redactPii(text, guardrails.redact);
    for (const [kind, count] of Object.entries(redacted.counts) as Array<[PiiKind, number]>)
      counts[kind] = (counts[kind] ?? 0) + count;
    return redacted.text;
  };
  const messages = chat.messages.map((message) => ({
    ...message,
    content: message.content.map((part) => ({
      ...part,
      text: clean(part.text),
      argumentsJson: clean(part.argumentsJson),
    })),
  }));
  if (Object.keys(counts).length === 0) return { chat };
  return { chat: { ...chat, messages }, action: { kind: "redact", counts } };
}

/** Stored text (prompts and completions kept for analytics) through the route's redaction. */
export function redactStored(guardrails: Guardrails, text: string): string {
  return guardrails.redact.length === 0 ? text : redactPii(text, guardrails.redact).text;
}

function textsOf(chat: ChatRequest): string[] {
  return chat.messages.flatMap((message) =>
    message.content.flatMap((part) => [part.text, part.argumentsJson].filter((text) => text !== null)),
  );
}
