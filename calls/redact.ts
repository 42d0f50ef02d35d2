/** Replaces every match of the operator's patterns by [REDACTED]; one compiled regex for all of them. */
export function createRedactor(patterns: readonly string[]): (text: string) => string {
  if (patterns.length === 0) return (text) => text;
  const any = new RegExp(patterns.map((pattern) => `(?:${pattern})`).join("|"), "g");
  return (text) => text.replace(any, "[REDACTED]");
}
