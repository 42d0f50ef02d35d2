import {
  type SchemaOptions,
  Type as T,
  type TObject,
  type TOptional,
  type TProperties,
  type TSchema,
} from "@sinclair/typebox";
import { type Priority, priorities } from "../schemas/request-envelope.ts";

/** Every section defaults to `{}` so that a file only names what it changes. */
export function section<P extends Record<string, TSchema>>(properties: P, description: string) {
  return T.Object(properties, { default: {}, additionalProperties: false, description });
}

/**
 * A list that also accepts one comma-separated string, because lists often arrive through one
 * environment variable (`KAFKA_BROKERS=a:9092,b:9092`).
 */
export function list(description: string) {
  return T.Transform(T.Union([T.Array(T.String({ minLength: 1 })), T.String()], { default: [], description }))
    .Decode((value) =>
      typeof value === "string"
        ? value
            .split(",")
            .map((item) => item.trim())
            .filter((item) => item.length > 0)
        : value,
    )
    .Encode((value) => value);
}

export function priority(description: string) {
  return oneOf(priorities, { default: "interactive", description });
}

/** An object with one setting per priority. */
export function perPriority<S extends TSchema>(
  defaults: Record<Priority, number>,
  schema: (value: number) => S,
  description: string,
) {
  return T.Object(
    {
      interactive: schema(defaults.interactive),
      default: schema(defaults.default),
      batch: schema(defaults.batch),
    },
    { default: {}, additionalProperties: false, description },
  );
}

/** One of a list of strings, typed as their union. */
export function oneOf<const Values extends readonly string[]>(values: Values, options: SchemaOptions) {
  return T.Unsafe<Values[number]>(
    T.Union(
      values.map((value) => T.Literal(value)),
      options,
    ),
  );
}

/**
 * A section's settings as one part's own values over it: the same fields, types, bounds and
 * descriptions, each optional and without a default (an unset field is the section's, resolved
 * when the configuration loads), so the two can never drift apart.
 */
export function overrides<P extends TProperties>(section: TObject<P>, description: string) {
  const properties = Object.fromEntries(
    Object.entries(section.properties).map(([name, property]) => {
      const { default: _default, ...own } = property;
      return [name, T.Optional(own as TSchema)];
    }),
  ) as unknown as { [K in keyof P]: TOptional<P[K]> };
  return T.Object(properties, { additionalProperties: false, description });
}
