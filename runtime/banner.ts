import { logBase } from "./logger.ts";

/** Something the operator must see once, apart from the log lines (the key a first start made). */
export interface Banner {
  /** The JSON line's message; the block's heading on a terminal. */
  title: string;
  /** What a program reading the JSON line needs. */
  fields: Record<string, string | string[]>;
  /** The block's text on a terminal, under its heading. */
  lines: string[];
}

const rule = "─".repeat(72);

/**
 * On a terminal, a block set apart by rules and blank lines; in JSON, one line shaped as the
 * log's lines are (level info), for whatever reads the output.
 */
export function renderBanner(banner: Banner, format: "pretty" | "json"): string {
  if (format === "json")
    return `${JSON.stringify({ level: 30, time: new Date().toISOString(), ...logBase, msg: banner.title, ...banner.fields })}\n`;
  return [
    "",
    rule,
    `  ${banner.title}`,
    "",
    ...banner.lines.map((line) => (line ? `  ${line}` : "")),
    rule,
    "",
  ]
    .map((line) => `${line}\n`)
    .join("");
}
