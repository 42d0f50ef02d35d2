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

/**
 * Where every codec encodes before copying the bytes out; encoding is synchronous, so one serves
 * them all. avsc's own `toBuffer` encodes into 1 KB and, for a larger message (a request whose
 * prompt passes 1 KB), encodes it all over again; it also copies into a zero-filled buffer of its
 * own. Here a message of up to 64 KB is encoded once and copied into Node's buffer pool: about a
 * third less CPU below 1 KB and half above it (BENCHMARKS.md).
 */
const scratch = Buffer.allocUnsafeSlow(64 * 1024);

function encodeWith(type: avro.Type, value: unknown): Buffer {
  const end = type.encode(value, scratch, 0);
  if (end < 0) {
    // Larger than the scratch (it returns how many bytes were missing): encoded where it will stay.
    const sized = Buffer.allocUnsafe(scratch.length - end);
    type.encode(value, sized, 0);
    return sized;
  }
  const encoded = Buffer.allocUnsafe(end);
  scratch.copy(encoded, 0, 0, end);
  return encoded;
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
    encode: (value) => encodeWith(type, value),
    decode: (buffer, writerVersion = version) =>
      writerVersion === version
        ? type.fromBuffer(buffer)
        : type.fromBuffer(buffer, resolverFor(writerVersion)),
  };
}
