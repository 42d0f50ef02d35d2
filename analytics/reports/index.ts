import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** A named report: one SQL file of this folder, whose first comment line describes it. */
export interface Report {
  name: string;
  description: string;
  sql: string;
}

const folder = fileURLToPath(new URL(".", import.meta.url));

/**
 * Every report, read from the `.sql` files beside this one: each takes `{from:DateTime64(3)}` and
 * `{to:DateTime64(3)}`, and runs as it is in clickhouse-client or the admin SQL endpoint.
 */
export const reports: ReadonlyMap<string, Report> = new Map(
  readdirSync(folder)
    .filter((file) => file.endsWith(".sql"))
    .sort()
    .map((file) => {
      const sql = readFileSync(`${folder}/${file}`, "utf8");
      const description = /^--\s*(.+)$/m.exec(sql)?.[1] ?? "";
      const name = file.slice(0, -".sql".length);
      return [name, { name, description, sql }];
    }),
);
