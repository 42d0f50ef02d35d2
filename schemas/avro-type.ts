/**
 * TypeScript types derived from Avro schemas written as `as const` objects, so each message shape
 * is written once (the schema) and the compiler checks every producer and consumer against it.
 * Covers the subset of Avro this project uses: primitives, records, enums, arrays, maps, unions
 * and inline named types (no references by name).
 *
 * Two views of one schema: `AvroType` is what decoding gives (every field present), `AvroInput`
 * is what encoding takes (a field with a default may be left out; avsc writes the default).
 */
export type AvroSchema =
  | "null"
  | "boolean"
  | "int"
  | "long"
  | "float"
  | "double"
  | "bytes"
  | "string"
  | readonly AvroSchema[]
  | { readonly type: "record"; readonly name: string; readonly fields: readonly AvroField[] }
  | {
      readonly type: "enum";
      readonly name: string;
      readonly symbols: readonly string[];
      readonly default?: string;
    }
  | { readonly type: "array"; readonly items: AvroSchema }
  | { readonly type: "map"; readonly values: AvroSchema };

export interface AvroField {
  readonly name: string;
  readonly type: AvroSchema;
  readonly default?: unknown;
  readonly doc?: string;
}

type Primitive = {
  null: null;
  boolean: boolean;
  int: number;
  long: number;
  float: number;
  double: number;
  bytes: Buffer;
  string: string;
};

type Mode = "read" | "write";

type Mapped<S, M extends Mode> = S extends keyof Primitive
  ? Primitive[S]
  : S extends readonly (infer Member)[]
    ? Mapped<Member, M>
    : S extends { type: "record"; fields: infer Fields extends readonly AvroField[] }
      ? RecordOf<Fields, M>
      : S extends { type: "enum"; symbols: infer Symbols extends readonly string[] }
        ? Symbols[number]
        : S extends { type: "array"; items: infer Items }
          ? Mapped<Items, M>[]
          : S extends { type: "map"; values: infer Values }
            ? Record<string, Mapped<Values, M>>
            : never;

type FieldNamed<Fields extends readonly AvroField[], Name> = Extract<Fields[number], { name: Name }>;
type DefaultedNames<Fields extends readonly AvroField[]> = Extract<
  Fields[number],
  { default: unknown }
>["name"];
type OptionalNames<Fields extends readonly AvroField[], M extends Mode> = M extends "write"
  ? DefaultedNames<Fields>
  : never;

type RecordOf<Fields extends readonly AvroField[], M extends Mode> = {
  -readonly [Name in Exclude<Fields[number]["name"], OptionalNames<Fields, M>>]: Mapped<
    FieldNamed<Fields, Name>["type"],
    M
  >;
} & {
  -readonly [Name in OptionalNames<Fields, M>]?: Mapped<FieldNamed<Fields, Name>["type"], M>;
};

export type AvroType<S> = Mapped<S, "read">;
export type AvroInput<S> = Mapped<S, "write">;

/**
 * The integers an Avro `int` holds, and a `long` as avsc encodes a JavaScript number: what a
 * request may carry in such a field, checked at the edge so that encoding it cannot fail.
 */
export const avroIntegers = {
  int: { minimum: -(2 ** 31), maximum: 2 ** 31 - 1 },
  long: { minimum: -(2 ** 53 - 2), maximum: 2 ** 53 - 2 },
} as const;

/** `["null", type]`: an optional value (give the field `default: null`). */
export const nullable = <const T extends AvroSchema>(type: T) => ["null", type] as const;
