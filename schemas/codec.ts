import { readFileSync } from "node:fs";
import avro from "avsc";
import type { AvroInput, AvroType } from "./avro-type.ts";

/**
 * Encodes and decodes one message type in Avro's binary form. Every version the project ever
 * released is kept as a frozen `.avsc` file in `schemas/history/`; the writer's version travels
 * with each message (a Kafka header), and data written by any released version is read through
 * Avro schema resolution. `test/schemas/compatibility.test.ts` proves each version reads the others.
 */
export interface Codec<T, Input = T> {
  readonly name: string;
  /** The version this build writes. */
  readonly version: number;
  /** The avsc type of the version this build writes. */
  readonly type: avro.Type;
  encode(value: Input): Buffer;
  /** Decodes data written with `writerVersion` (default: ours). */
  decode(buffer: Buffer, writerVersion?: number): T;
}

export function historyFile(name: string, version: number): URL {
  return new URL(`./history/${name}.v${version}.avsc`, import.meta.url);
}

export function createCodec<const S extends { name: string }>(
  schema: S,
  version: number,
): Codec<AvroType<S>, AvroInput<S>> {
  const type = avro.Type.forSchema(schema as unknown as avro.Schema);
  const resolvers = new Map<number, avro.Resolver>();
  const resolverFor = (writerVersion: number): avro.Resolver => {
    let resolver = resolvers.get(writerVersion);
    if (!resolver) {
      const writer = avro.Type.forSchema(
        JSON.parse(readFileSync(historyFile(schema.name, writerVersion), "utf8")),
      );
      resolver = type.createResolver(writer);
      resolvers.set(writerVersion, resolver);
    }
    return resolver;
  };
  return {
    name: schema.name,
    version,
    type,
    encode: (value) => type.toBuffer(value),
    decode: (buffer, writerVersion = version) =>
      writerVersion === version
        ? type.fromBuffer(buffer)
        : type.fromBuffer(buffer, resolverFor(writerVersion)),
  };
}
