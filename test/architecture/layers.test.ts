import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../", import.meta.url));

/**
 * The layers of docs/architecture.md, lowest first. A file may import from its own folder or from
 * a lower layer, never from a higher one nor from another folder of its own layer.
 */
const layers: string[][] = [
  ["schemas"],
  ["config"],
  ["runtime"],
  ["bus", "local-services"],
  ["governance"],
  ["calls"],
  ["workers", "analytics", "batches"],
  ["ingress"],
  ["app"],
  ["bin", "bench"],
];

/** The imports that run against the layers on purpose, each with its reason (docs/architecture.md). */
const exceptions: Record<string, string> = {
  "config/schema.ts -> workers/providers/registry.ts":
    "the provider types a configuration may name are the registry's keys: adding a provider touches its folder and one registry line",
  "config/load.ts -> workers/providers/registry.ts":
    "each provider's options are checked at load with the options schema its folder declares",
};

const levelOf = new Map(layers.flatMap((folders, level) => folders.map((folder) => [folder, level])));
const importPattern = /(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g;

function sourceFiles(folder: string): string[] {
  return readdirSync(join(root, folder), { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") ? [path] : [];
  });
}

/** Every relative import between the layered folders, as `file -> imported file`. */
function imports(): Array<{ from: string; to: string }> {
  return [...levelOf.keys()].flatMap((folder) =>
    sourceFiles(folder).flatMap((file) =>
      [...readFileSync(join(root, file), "utf8").matchAll(importPattern)].map((match) => ({
        from: file,
        to: normalize(relative(root, join(root, dirname(file), match[1] as string))),
      })),
    ),
  );
}

const folderOf = (path: string) => path.split("/")[0] as string;

describe("the layers of the code (docs/architecture.md)", () => {
  const all = imports();

  it("are kept: no import from a higher layer or across one, but the documented exceptions", () => {
    const against = all
      .filter(({ from, to }) => {
        const [mine, theirs] = [folderOf(from), folderOf(to)];
        if (mine === theirs || !levelOf.has(theirs)) return false;
        return (levelOf.get(theirs) as number) >= (levelOf.get(mine) as number);
      })
      .map(({ from, to }) => `${from} -> ${to}`);
    expect(against.filter((arrow) => !(arrow in exceptions))).toEqual([]);
    // An exception that no longer happens is taken off the list.
    expect(Object.keys(exceptions).filter((arrow) => !against.includes(arrow))).toEqual([]);
    expect(Object.keys(exceptions).length).toBeLessThanOrEqual(4);
  });

  it("reach outside the project's code only from the benchmarks (which reuse the tests' services)", () => {
    const outside = all.filter(({ from, to }) => !levelOf.has(folderOf(to)) && folderOf(from) !== "bench");
    expect(outside).toEqual([]);
  });

  it("have no circles between files", () => {
    const edges = new Map<string, string[]>();
    for (const { from, to } of all) edges.set(from, [...(edges.get(from) ?? []), to]);
    const circles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const visit = (file: string, path: string[]) => {
      if (state.get(file) === "done") return;
      if (state.get(file) === "open") {
        circles.push([...path.slice(path.indexOf(file)), file].join(" -> "));
        return;
      }
      state.set(file, "open");
      for (const next of edges.get(file) ?? []) visit(next, [...path, file]);
      state.set(file, "done");
    };
    for (const file of edges.keys()) visit(file, []);
    expect(circles).toEqual([]);
  });
});
