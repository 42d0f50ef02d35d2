import type { IncomingMessage } from "node:http";

/**
 * The directives every emulator understands, written into the prompt as `[emulator:name]` or
 * `[emulator:name=value]`, so each test scripts its own provider behaviour:
 *   [emulator:latency=MS]     wait MS before answering (a slow first byte)
 *   [emulator:reset]          drop the connection without answering
 *   [emulator:delay=MS]       wait MS between streamed chunks (the token rate)
 *   [emulator:disconnect=N]   cut a stream after N words, without its end
 *   [emulator:malformed=KIND] answer with a body, or a stream chunk in place of the first word's,
 *                             the adapter cannot read: `not-json`, `missing` (a required field
 *                             left out) or `wrong-type` (a field of another type), after which the
 *                             stream ends; or `unknown`: with what the protocol lets a reader
 *                             ignore (fields, events, blocks or parts it does not know), the
 *                             answer otherwise whole
 *   [emulator:malformed-after=N]  the malformed chunk in place of word N instead (N words first)
 * Each emulator adds its own (status, midstream, calls, length, refusal …), listed in its file.
 */
export function directive(text: string, name: string): string | undefined {
  const match = new RegExp(`\\[emulator:${name}(?:=([^\\]]*))?\\]`).exec(text);
  return match ? (match[1] ?? "") : undefined;
}

/** The prompt with its directives taken out: what the emulator echoes. */
export const withoutDirectives = (text: string) => text.replace(/\[emulator:[^\]]*\]/g, "").trim();

/** Applies latency and reset; true when the connection was dropped and nothing more may be written. */
export async function beforeAnswer(text: string, request: IncomingMessage): Promise<boolean> {
  const latency = Number(directive(text, "latency") ?? 0);
  if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
  if (directive(text, "reset") === undefined) return false;
  request.socket.destroy();
  return true;
}

/** The pause between streamed chunks: the prompt's `delay`, else the emulator's own setting. */
export function chunkPause(text: string, chunkDelayMs = 0): () => Promise<void> {
  const delay = Number(directive(text, "delay") ?? chunkDelayMs);
  return () => (delay > 0 ? new Promise((resolve) => setTimeout(resolve, delay)) : Promise.resolve());
}

/** The word after which a stream is cut (`disconnect=N`), if any. */
export function disconnectAfter(text: string): number | undefined {
  const value = directive(text, "disconnect");
  return value === undefined ? undefined : Number(value);
}

/** Cuts the connection without an end, once what was written has had time to reach the client. */
export function cutConnection(response: { destroy(): void }): void {
  setTimeout(() => response.destroy(), 50);
}

export type Malformation = "not-json" | "missing" | "wrong-type" | "unknown";

/** What `malformed` asks for, and the word whose chunk it replaces; undefined when nothing. */
export function malformation(text: string): { kind: Malformation; atWord: number } | undefined {
  const kind = directive(text, "malformed");
  if (kind === undefined) return undefined;
  if (!["not-json", "missing", "wrong-type", "unknown"].includes(kind))
    throw new Error(`unknown malformation ${kind}`);
  return { kind: kind as Malformation, atWord: Number(directive(text, "malformed-after") ?? 0) };
}
