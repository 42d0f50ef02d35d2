/** One step of the analytics schema. Applied once, in id order; never edited once released (add a new one). */
export interface Migration {
  readonly id: number;
  readonly name: string;
  /** Each statement must be idempotent (IF NOT EXISTS …), so a step interrupted halfway can run again. */
  readonly statements: readonly string[];
}
