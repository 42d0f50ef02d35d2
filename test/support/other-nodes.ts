import { accessSync, constants, realpathSync } from "node:fs";
import { delimiter, join } from "node:path";

/**
 * Every Node on the PATH other than this process's, outside node_modules, as npx would find
 * one: the machine's own, whatever its version.
 */
export function otherNodes(): string[] {
  const found = new Set<string>();
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir.includes("node_modules")) continue;
    try {
      accessSync(join(dir, "node"), constants.X_OK);
      found.add(realpathSync(join(dir, "node")));
    } catch {
      // no node here
    }
  }
  found.delete(realpathSync(process.execPath));
  return [...found];
}
