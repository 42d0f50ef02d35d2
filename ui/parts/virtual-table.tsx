import { elementScroll, observeElementOffset, observeElementRect, Virtualizer } from "@tanstack/virtual-core";
import type { ComponentChildren } from "preact";
import { useEffect, useReducer, useRef, useState } from "preact/hooks";

export interface Column<Row> {
  label: string;
  width: string;
  cell: (row: Row) => ComponentChildren;
}

/**
 * A table that draws only the rows in view (@tanstack/virtual-core), so a log of any length scrolls
 * smoothly; `onEnd` asks for the next page when the last rows come into view. A row opens
 * (`onOpen`) with the button of its first cell, by click or keyboard.
 */
export function VirtualTable<Row>(props: {
  rows: Row[];
  columns: Array<Column<Row>>;
  /** A row's identity; a result without one keys by position (`index`). */
  rowKey: (row: Row, index: number) => string;
  onOpen?: (row: Row) => void;
  onEnd?: () => void;
  label: string;
}) {
  const scroller = useRef<HTMLTableSectionElement>(null);
  const [, redraw] = useReducer((n: number) => n + 1, 0);
  const [virtualizer] = useState(
    () =>
      new Virtualizer<HTMLTableSectionElement, Element>({
        count: 0,
        getScrollElement: () => scroller.current,
        estimateSize: () => 34,
        overscan: 12,
        scrollToFn: elementScroll,
        observeElementRect,
        observeElementOffset,
        onChange: () => redraw(0),
      }),
  );
  virtualizer.setOptions({ ...virtualizer.options, count: props.rows.length });
  useEffect(() => virtualizer._didMount(), []);
  useEffect(() => virtualizer._willUpdate());
  const items = virtualizer.getVirtualItems();
  const last = items.at(-1);
  useEffect(() => {
    if (last && last.index >= props.rows.length - 5) props.onEnd?.();
  }, [last?.index, props.rows.length]);
  const template = props.columns.map((column) => column.width).join(" ");
  return (
    <table class="table" aria-label={props.label}>
      <thead>
        <tr class="table-head" style={{ gridTemplateColumns: template }}>
          {props.columns.map((column) => (
            <th key={column.label} scope="col">
              {column.label}
            </th>
          ))}
        </tr>
      </thead>
      <tbody class="table-body" ref={scroller}>
        <tr class="table-spacer" style={{ height: `${virtualizer.getTotalSize()}px` }} />
        {items.map((item) => {
          const row = props.rows[item.index] as Row;
          return (
            <tr
              class="table-row"
              key={props.rowKey(row, item.index)}
              style={{ gridTemplateColumns: template, transform: `translateY(${item.start}px)` }}
            >
              {props.columns.map((column, index) => (
                <td key={column.label}>
                  {index === 0 && props.onOpen ? (
                    <button type="button" class="link" onClick={() => props.onOpen?.(row)}>
                      {column.cell(row)}
                    </button>
                  ) : (
                    column.cell(row)
                  )}
                </td>
              ))}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
