import type { ComponentChildren } from "preact";

/**
 * A log's filters: a text field each, and any other control (`children`), applied together. The
 * filters are the fields not left empty, trimmed, by name — the names of the query's parameters.
 */
export function FilterForm(props: {
  fields: ReadonlyArray<{ name: string; label: string }>;
  values: Record<string, string>;
  onApply: (filters: Record<string, string>) => void;
  children?: ComponentChildren;
}) {
  return (
    <form
      class="filters"
      onSubmit={(event) => {
        event.preventDefault();
        props.onApply(
          Object.fromEntries(
            [...new FormData(event.currentTarget)]
              .map(([name, value]) => [name, String(value).trim()])
              .filter(([, value]) => value !== ""),
          ),
        );
      }}
    >
      {props.fields.map((field) => (
        <label key={field.name}>
          {field.label}
          <input name={field.name} defaultValue={props.values[field.name] ?? ""} />
        </label>
      ))}
      {props.children}
      <button type="submit">Apply</button>
    </form>
  );
}
