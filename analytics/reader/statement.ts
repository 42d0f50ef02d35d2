/** The statements admin SQL runs: queries. */
const queries = new Set(["SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "EXISTS"]);

/** Whitespace, comments (--, #, /* … *\/) and opening parentheses before a statement's first word. */
const leading = /^(?:\s+|--[^\n]*|#[^\n]*|\/\*[\s\S]*?\*\/|\()*/;

/** An admin's statement that is not a query (KILL, SYSTEM, SET, INSERT, ALTER …). */
export class StatementRefused extends Error {
  constructor(readonly keyword: string) {
    super(`admin SQL runs one query (SELECT, WITH, SHOW, DESCRIBE, EXPLAIN or EXISTS), not ${keyword}`);
    this.name = "StatementRefused";
  }
}

/**
 * Refuses any statement but a query before it reaches ClickHouse. Not the wall — the reader user's
 * grants are, and ClickHouse refuses it every such statement — but a plain reason for each, and
 * for the one ClickHouse lets through as a no-op: SYSTEM STOP MERGES without a table skips the
 * tables the user has no right on, all of them, and answers OK.
 */
export function assertQuery(sql: string): void {
  const keyword = /^[A-Za-z_]+/.exec(sql.replace(leading, ""))?.[0].toUpperCase();
  if (!keyword || !queries.has(keyword)) throw new StatementRefused(keyword ?? "a bare expression");
}
