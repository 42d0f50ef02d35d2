import type { ComponentChildren } from "preact";
import { useEffect, useId, useRef } from "preact/hooks";

/**
 * A titled box for one task (a form, a key's settings). Its heading takes the focus when it
 * opens, so keyboard and screen reader users land on what they just opened.
 */
export function Panel(props: { title: string; onClose: () => void; children: ComponentChildren }) {
  const heading = useRef<HTMLHeadingElement>(null);
  const id = useId();
  useEffect(() => heading.current?.focus(), [props.title]);
  return (
    <section class="panel" aria-labelledby={id}>
      <header class="panel-head">
        <h2 id={id} ref={heading} tabIndex={-1}>
          {props.title}
        </h2>
        <button type="button" onClick={props.onClose}>
          Close
        </button>
      </header>
      {props.children}
    </section>
  );
}
