import type { NumberGroup } from "../governance.ts";

/**
 * Form fields for settings, and how a submitted form becomes an admin API body. Forms are left
 * to the browser (defaultValue, FormData on submit), so an empty field means "not set" (null).
 */

type NumberValues = Record<string, number | null>;

export function textOf(form: FormData, name: string): string | null {
  return String(form.get(name) ?? "").trim() || null;
}

/** A comma-separated field as a list; none: null. */
export function listOf(form: FormData, name: string): string[] | null {
  const items = (textOf(form, name) ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
  return items.length > 0 ? items : null;
}

/** The ticked boxes of a ListField; none: null. */
export function chosenOf(form: FormData, name: string): string[] | null {
  const chosen = form.getAll(name).map(String);
  return chosen.length > 0 ? chosen : null;
}

/** A group's filled fields as numbers; none filled: null (which clears the group). */
export function groupOf(form: FormData, group: NumberGroup): Record<string, number> | null {
  return compact(group, (name) => textOf(form, `${group.name}.${name}`));
}

/** A record's group as groupOf would read it back from the form it fills. */
export function groupValues(group: NumberGroup, values: NumberValues | null): Record<string, number> | null {
  return compact(group, (name) => values?.[name] ?? null);
}

function compact(group: NumberGroup, read: (name: string) => string | number | null) {
  const entries = group.fields.flatMap((field) => {
    const value = read(field.name);
    return value === null ? [] : [[field.name, Number(value)] as const];
  });
  return entries.length > 0 ? Object.fromEntries(entries) : null;
}

/**
 * What an edit changed: the settings of `after` that differ from `before`, so an update sends
 * (and the audit log records) only those. Nothing changed is an error to show, not an empty update.
 */
export function changesOf<T extends object>(before: T, after: T): Partial<T> {
  const changes = Object.entries(after).filter(
    ([name, value]) => JSON.stringify(value) !== JSON.stringify(before[name as keyof T]),
  );
  if (changes.length === 0) throw new Error("Nothing to save: no setting was changed.");
  return Object.fromEntries(changes) as Partial<T>;
}

export function NumberGroupFields(props: { group: NumberGroup; values: NumberValues | null | undefined }) {
  return (
    <fieldset class="fields">
      <legend>{props.group.legend}</legend>
      {props.group.fields.map((field) => (
        <label key={field.name}>
          {field.label}
          <input
            type="number"
            name={`${props.group.name}.${field.name}`}
            min={field.integer ? 1 : 0}
            step={field.integer ? 1 : "any"}
            defaultValue={String(props.values?.[field.name] ?? "")}
          />
        </label>
      ))}
    </fieldset>
  );
}

/** Model names or prefixes (`gpt-4o*`), comma-separated; empty: all that the owner allows. */
export function ModelsField(props: { models: string[] | null | undefined; none: string }) {
  return (
    <label>
      Allowed models (comma-separated; a trailing * matches a prefix; empty: {props.none})
      <input name="models" defaultValue={props.models?.join(", ") ?? ""} />
    </label>
  );
}

/** Checkboxes for a set of choices, ticked as `chosen` (read back with chosenOf). */
export function ListField(props: {
  name: string;
  legend: string;
  options: readonly string[];
  chosen: string[] | null | undefined;
}) {
  return (
    <fieldset class="fields">
      <legend>{props.legend}</legend>
      {props.options.map((option) => (
        <label key={option} class="check">
          <input
            type="checkbox"
            name={props.name}
            value={option}
            defaultChecked={props.chosen?.includes(option) ?? false}
          />
          {option}
        </label>
      ))}
    </fieldset>
  );
}
