import type { DestinationStream } from "pino";

export interface PrettyOptions {
  /** ANSI colours: only for a terminal that has not asked for none (NO_COLOR). */
  colour: boolean;
  /** Stack traces under the line of an error: only when debugging, a start failure is one sentence. */
  stacks: boolean;
}

const levels: Record<number, { name: string; colour: string }> = {
  10: { name: "TRACE", colour: "90" },
  20: { name: "DEBUG", colour: "36" },
  30: { name: "INFO", colour: "32" },
  40: { name: "WARN", colour: "33" },
  50: { name: "ERROR", colour: "31" },
  60: { name: "FATAL", colour: "1;31" },
};

/** What every line carries and a reader at a terminal does not need repeated. */
const unshown = new Set(["level", "time", "msg", "service", "pid", "hostname"]);

/**
 * A pino destination that prints each line pino wrote — already redacted and serialised — as
 * `HH:MM:SS.mmm LEVEL message key=value …`. In the main thread and synchronous, like pino's own
 * destination: no worker thread for a terminal's few lines a second.
 */
export function prettyDestination(out: DestinationStream, options: PrettyOptions): DestinationStream {
  return { write: (json: string) => void out.write(prettyLine(JSON.parse(json), options)) };
}

/** One event as one readable line (plus its stack, indented, when `stacks`). */
export function prettyLine(event: Record<string, unknown>, { colour, stacks }: PrettyOptions): string {
  const paint = (code: string, text: string) => (colour ? `\u001b[${code}m${text}\u001b[0m` : text);
  const level = levels[event.level as number] ?? { name: String(event.level), colour: "0" };
  const time = typeof event.time === "string" ? event.time.slice(11, 23) : "";
  const traces: string[] = [];
  const fields = Object.entries(event)
    .filter(([key]) => !unshown.has(key))
    .flatMap(([key, value]) => {
      // kafkajs's lines carry a `stack` of their own; a serialised error has one in `err`.
      const stack = key === "stack" ? value : (value as { stack?: unknown } | null)?.stack;
      if (typeof stack === "string") traces.push(stack);
      if (key === "stack") return [];
      return flatten(key, isError(value) ? `${value.type}: ${value.message}` : value);
    })
    .map(([key, value]) => `${paint("2", `${key}=`)}${value}`);
  const head = [paint("2", time), paint(level.colour, level.name.padEnd(5)), String(event.msg ?? "")];
  const body = stacks ? traces.map((trace) => `\n${indent(trace)}`).join("") : "";
  return `${[...head, ...fields].join(" ")}${body}\n`;
}

/** Nested objects as dotted keys, arrays as comma-separated items, text quoted when it needs to be. */
function flatten(key: string, value: unknown): Array<[string, string]> {
  if (Array.isArray(value)) return [[key, value.map((item) => scalar(item)).join(",")]];
  if (value !== null && typeof value === "object")
    return Object.entries(value).flatMap(([inner, item]) => flatten(`${key}.${inner}`, item));
  return [[key, scalar(value)]];
}

function scalar(value: unknown): string {
  if (typeof value !== "string") return typeof value === "object" ? JSON.stringify(value) : String(value);
  const oneLine = value.replace(/\s*\n\s*/g, " ");
  return /^[^\s="]+$/.test(oneLine) ? oneLine : JSON.stringify(oneLine);
}

function isError(value: unknown): value is { type: string; message: string } {
  return typeof value === "object" && value !== null && "message" in value && "type" in value;
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((line) => `    ${line}`)
    .join("\n");
}
