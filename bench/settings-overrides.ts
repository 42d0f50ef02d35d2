/** One `--set path.to.option=value` of a bench: a gateway setting over the bench's own. */
export interface SettingOverride {
  path: string[];
  value: unknown;
}

/** `path.to.option=value`; the value is read as JSON when it is JSON, else as a string. */
export function parseSettingOverride(text: string): SettingOverride {
  const equals = text.indexOf("=");
  if (equals < 1) throw new Error(`--set wants path.to.option=value, not "${text}"`);
  const raw = text.slice(equals + 1);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // a bare string
  }
  return { path: text.slice(0, equals).split("."), value };
}

/** `settings` with each override set in place (objects on the way made as needed). */
export function withOverrides(
  settings: Record<string, unknown>,
  overrides: SettingOverride[],
): Record<string, unknown> {
  const copy = structuredClone(settings);
  for (const { path, value } of overrides) {
    let at = copy;
    for (const key of path.slice(0, -1)) {
      if (typeof at[key] !== "object" || at[key] === null) at[key] = {};
      at = at[key] as Record<string, unknown>;
    }
    at[path.at(-1) as string] = value;
  }
  return copy;
}
