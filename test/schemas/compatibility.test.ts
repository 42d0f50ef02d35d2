import { existsSync, readFileSync } from "node:fs";
import avro from "avsc";
import { describe, expect, it } from "vitest";
import { historyFile } from "../../schemas/codec.ts";
import { codecs } from "../../schemas/index.ts";

describe.each(codecs.map((codec) => [codec.name, codec] as const))("the %s schema", (name, codec) => {
  const type = codec.type;
  const released = Array.from({ length: codec.version }, (_, index) => index + 1).map((version) => ({
    version,
    type: avro.Type.forSchema(JSON.parse(readFileSync(historyFile(name, version), "utf8"))),
  }));

  it("is frozen in schemas/history at the version this build writes", () => {
    // A change to the schema needs a new history file and a version bump, never an edit.
    expect(type.equals(released.at(-1)?.type as avro.Type)).toBe(true);
    expect(existsSync(historyFile(name, codec.version + 1))).toBe(false);
  });

  it.each(released.map(({ version }) => version))(
    "reads data written by version %i, and v%i readers read ours",
    (version) => {
      const writer = released[version - 1]?.type as avro.Type;
      for (let sample = 0; sample < 20; sample++) {
        const old = writer.random();
        expect(codec.decode(writer.toBuffer(old), version)).toBeDefined();
        const ours = type.random();
        expect(() => writer.fromBuffer(type.toBuffer(ours), writer.createResolver(type))).not.toThrow();
      }
    },
  );
});
