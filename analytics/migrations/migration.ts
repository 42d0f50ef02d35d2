import type { ClickHouseClient } from "@clickhouse/client";

/** One step of the analytics schema. Applied once, in id order; never edited once released (add a new one). */
export interface Migration {
  readonly id: number;
  readonly name: string;
  /**
   * Each statement must be idempotent (IF NOT EXISTS …), so a step interrupted halfway can run
   * again. A function of the gateway's database for steps that must name it (users and grants are
   * server-wide, not per database).
   */
  readonly statements: readonly string[] | ((database: string) => readonly string[]);
  /**
   * Whether this server can take the step at all (absent: always). A step that does not apply is
   * not recorded, so it is asked again at the next start.
   */
  shouldApply?(client: ClickHouseClient): Promise<boolean>;
  /** What the gateway's ClickHouse user must be allowed to do for this step, named when it fails. */
  readonly needs?: string;
}
