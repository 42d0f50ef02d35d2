import { Kind, type TSchema } from "@sinclair/typebox";

/**
 * Every option of a configuration schema as its dotted path (`server.port`). An object with
 * properties is a section to descend into; anything else (a value, a list, a map) is one option.
 */
export function optionsOf(schema: TSchema, prefix = ""): string[] {
  if (schema[Kind] !== "Object") return [prefix];
  return Object.entries(schema.properties as Record<string, TSchema>).flatMap(([name, property]) =>
    optionsOf(property, prefix ? `${prefix}.${name}` : name),
  );
}

/** The value at a dotted path of plain data, or undefined when any step is missing. */
export function valueAt(data: unknown, option: string): unknown {
  let value = data;
  for (const name of option.split(".")) {
    if (!isRecord(value)) return undefined;
    value = value[name];
  }
  return value;
}

/**
 * Sets the value at a dotted path, making the sections on the way. A step that is there but not a
 * section is left alone (answers false): validation then names it as the file wrote it.
 */
export function setAt(data: Record<string, unknown>, option: string, value: unknown): boolean {
  const names = option.split(".");
  const last = names.pop() as string;
  let section = data;
  for (const name of names) {
    section[name] ??= {};
    const next = section[name];
    if (!isRecord(next)) return false;
    section = next;
  }
  section[last] = value;
  return true;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
