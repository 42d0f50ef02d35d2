/**
 * How the emulators count a prompt's tokens for their counting endpoints: one a word of every text
 * in it (every string the request holds under the given fields, keys and roles left out), plus
 * `perMessage` a message — a rule simple enough that a test can predict it, and that sees a change
 * to any text, tool or system prompt the gateway sends.
 */
export function emulatedTokenCount(
  request: Record<string, unknown>,
  fields: string[],
  messages: unknown[],
  perMessage: number,
): number {
  return fields.reduce((sum, field) => sum + wordsIn(request[field]), 0) + messages.length * perMessage;
}

function wordsIn(value: unknown, key?: string): number {
  if (typeof value === "string")
    return key === "role" || key === "type" ? 0 : value.split(/\s+/).filter(Boolean).length;
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + wordsIn(item), 0);
  if (value && typeof value === "object")
    return Object.entries(value).reduce((sum, [name, item]) => sum + wordsIn(item, name), 0);
  return 0;
}
