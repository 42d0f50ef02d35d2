/**
 * How commands print what they got: tables and field lists for people on a terminal, JSON for
 * scripts. Which one a command prints is its own choice (see `npx ai-gateway --help`).
 */

/** Whether stdout is a terminal, and how wide, if it says. */
export function terminal(): { tty: boolean; columns?: number } {
  return { tty: Boolean(process.stdout.isTTY), columns: process.stdout.columns };
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

const shortest = 6;

/**
 * Rows as columns padded to their widest cell, the first row the header. Given a width, the widest
 * columns are cut (ending in `…`) until a line fits it, none below a few characters. Columns of
 * free text (cells of varying lengths: names, model lists, reasons) are cut before those of one
 * fixed length (ids, times), which are no use cut.
 */
export function table(rows: string[][], width?: number): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
  if (width !== undefined) {
    const gaps = 2 * (widths.length - 1);
    const lengths = (column: number) => new Set(rows.slice(1).map((row) => row[column]?.length ?? 0));
    const freeText = widths.map((_, column) => lengths(column).size > 1);
    let overflow = widths.reduce((sum, each) => sum + each, gaps) - width;
    while (overflow > 0) {
      const cuttable = widths.map((each, column) => (freeText[column] && each > shortest ? each : 0));
      const candidates = Math.max(...cuttable) > 0 ? cuttable : widths;
      const widest = candidates.indexOf(Math.max(...candidates));
      const cut = Math.min(overflow, (widths[widest] ?? 0) - shortest);
      if (cut <= 0) break;
      widths[widest] = (widths[widest] ?? 0) - cut;
      overflow -= cut;
    }
  }
  const fit = (cell: string, column: number) => {
    const room = widths[column] ?? 0;
    return cell.length > room ? `${cell.slice(0, room - 1)}…` : cell.padEnd(room);
  };
  return rows.map((row) => `${row.map(fit).join("  ").trimEnd()}\n`).join("");
}

/** A table on stdout, fitted to the terminal's width when stdout is one. */
export function printTable(rows: string[][]): void {
  const screen = terminal();
  process.stdout.write(table(rows, screen.tty ? screen.columns : undefined));
}

/**
 * An object as `field  value` lines, nested fields as dotted paths (`budget.dailyUsd`), empty ones
 * (null, {}, []) left out; times in milliseconds since the epoch (`…AtMs`) as ISO times.
 */
export function fieldLines(object: Record<string, unknown>): string {
  const pairs = flatten(object, "");
  const width = Math.max(0, ...pairs.map(([name]) => name.length));
  return pairs.map(([name, value]) => `${name.padEnd(width)}  ${value}\n`).join("");
}

function flatten(value: Record<string, unknown>, prefix: string): Array<[string, string]> {
  return Object.entries(value).flatMap(([name, item]): Array<[string, string]> => {
    const path = `${prefix}${name}`;
    if (item === null || item === undefined) return [];
    if (Array.isArray(item)) return item.length === 0 ? [] : [[path, item.map(String).join(", ")]];
    if (typeof item === "object") return flatten(item as Record<string, unknown>, `${path}.`);
    if (typeof item === "number" && name.endsWith("AtMs")) return [[path.slice(0, -2), isoTime(item)]];
    return [[path, String(item)]];
  });
}

/** A time as `2026-12-06T21:24:31Z` (seconds are enough to read). */
export function isoTime(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, "Z");
}
