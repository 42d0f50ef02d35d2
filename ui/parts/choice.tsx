import { type Range, ranges } from "../ranges.ts";

/** A choice among a few options, as a radio group (arrow keys move within it). */
export function Choice(props: {
  label: string;
  options: ReadonlyArray<{ id: string; label: string }>;
  value: string;
  onChange: (id: string) => void;
}) {
  return (
    <fieldset class="choice">
      <legend>{props.label}</legend>
      {props.options.map((option) => (
        <label key={option.id} class={option.id === props.value ? "chosen" : ""}>
          <input
            type="radio"
            name={props.label}
            checked={option.id === props.value}
            onChange={() => props.onChange(option.id)}
          />
          {option.label}
        </label>
      ))}
    </fieldset>
  );
}

/** The time range a view shows, among the ranges every view offers. */
export function RangeChoice(props: { value: Range; onChange: (range: Range) => void }) {
  return (
    <Choice
      label="Range"
      options={ranges.map((range) => ({ id: range.id, label: range.label }))}
      value={props.value.id}
      onChange={(id) => props.onChange(ranges.find((range) => range.id === id) ?? props.value)}
    />
  );
}
