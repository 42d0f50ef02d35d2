import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { inboundApis } from "../../ingress/app.ts";
import { providerTypes } from "../../workers/providers/registry.ts";
import { emulatedProviderTypes } from "../emulators/providers.ts";

const doc = readFileSync(new URL("../../docs/providers.md", import.meta.url), "utf8");

describe("docs/providers.md", () => {
  it("has a column in the conformance table for every provider type that calls a service", () => {
    const header = doc.split("\n").find((line) => line.startsWith("| feature |")) ?? "";
    const columns = header
      .split("|")
      .map((cell) => cell.trim())
      .filter(Boolean)
      .slice(1);
    expect(columns.sort()).toEqual([...emulatedProviderTypes].sort());
  });

  it("lists every provider type and every inbound API's path", () => {
    for (const type of Object.keys(providerTypes)) expect(doc).toContain(`| \`${type}\` |`);
    for (const api of inboundApis) expect(doc).toContain(`\`${api.path}\``);
  });
});
