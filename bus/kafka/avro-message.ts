import type { KafkaMessage } from "kafkajs";
import type { Codec } from "../../schemas/codec.ts";

/** Kafka header naming the schema version a message was written with. */
export const schemaVersionHeader = "schema-version";

/** A record as a Kafka message, for either client: Avro bytes, the writer's schema version in a header. */
export interface AvroMessage {
  key: string;
  value: Buffer;
  headers: Record<string, string>;
}

/** A record as a Kafka message: Avro bytes, with the writer's schema version in a header. */
export function toKafkaMessage<T, Input>(codec: Codec<T, Input>, key: string, value: Input): AvroMessage {
  return { key, value: codec.encode(value), headers: { [schemaVersionHeader]: String(codec.version) } };
}

/**
 * Why a message could not be read, as a small fixed set (a metric label):
 * - `unknown-schema-version`: written by a newer release (or naming no version this one knows);
 *   a release that knows the version reads it;
 * - `no-value`: an empty message where a record is expected;
 * - `undecodable`: bytes that are no record of the schema version they claim.
 */
export type DecodeFailure = "unknown-schema-version" | "no-value" | "undecodable";

export class DecodeError extends Error {
  constructor(
    readonly failure: DecodeFailure,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "DecodeError";
  }
}

/** Reads a message written by any released version of the schema (throws a DecodeError if it cannot). */
export function fromKafkaMessage<T, Input>(codec: Codec<T, Input>, message: KafkaMessage): T {
  return readRecord(codec, message.value, message.headers?.[schemaVersionHeader]?.toString());
}

/** A record from its bytes and its schema-version header, whichever client read them (throws a DecodeError). */
export function readRecord<T, Input>(
  codec: Codec<T, Input>,
  value: Buffer | null | undefined,
  versionHeader: string | undefined,
): T {
  const version = versionHeader === undefined ? codec.version : Number(versionHeader);
  if (!Number.isInteger(version) || version < 1 || version > codec.version) {
    throw new DecodeError(
      "unknown-schema-version",
      `${codec.name} schema version ${versionHeader} is unknown to this release, which reads versions 1 to ${codec.version}`,
    );
  }
  if (value === null || value === undefined)
    throw new DecodeError("no-value", `an empty message where a ${codec.name} was expected`);
  try {
    return codec.decode(value, version);
  } catch (error) {
    const reason = `not a ${codec.name} of version ${version}: ${(error as Error).message}`;
    throw new DecodeError("undecodable", reason, { cause: error });
  }
}
