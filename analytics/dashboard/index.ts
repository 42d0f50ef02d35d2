import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** A query of the dashboard: one SQL file of this folder, whose first comment line describes it. */
export interface DashboardQuery {
  name: string;
  description: string;
  sql: string;
  /** Its `{name:Type}` parameters, by name: what a request may bind. */
  params: ReadonlyMap<string, string>;
  /** Only for admin sessions (a `-- access: admin` line): what is not any one team's, as the audit log. */
  adminOnly: boolean;
}

const folder = fileURLToPath(new URL(".", import.meta.url));
const placeholder = /\{([a-z_]+):([A-Za-z0-9()]+)\}/g;

/**
 * The dashboard's queries, read from the `.sql` files beside this one. Each runs as the reader
 * user (the same layer as admin SQL) and takes `{team:String}`: a team's dashboard session sees
 * only its own team's rows; '' (an admin) sees every team's. A file with a `-- access: admin` line
 * is for admin sessions only.
 */
export const dashboardQueries: ReadonlyMap<string, DashboardQuery> = new Map(
  readdirSync(folder)
    .filter((file) => file.endsWith(".sql"))
    .sort()
    .map((file) => {
      const sql = readFileSync(`${folder}/${file}`, "utf8");
      const name = file.slice(0, -".sql".length);
      const params = new Map(
        [...sql.matchAll(placeholder)].map((match) => [match[1] as string, match[2] as string]),
      );
      const adminOnly = /^--\s*access:\s*admin\s*$/m.test(sql);
      return [name, { name, description: /^--\s*(.+)$/m.exec(sql)?.[1] ?? "", sql, params, adminOnly }];
    }),
);
