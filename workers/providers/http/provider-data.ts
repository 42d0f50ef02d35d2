import {
  type Static,
  Type as T,
  type TLiteral,
  type TObject,
  type TSchema,
  type TUnion,
  type TUnsafe,
} from "@sinclair/typebox";
import { type TypeCheck, TypeCompiler } from "@sinclair/typebox/compiler";
import { type ValueError, ValueErrorType } from "@sinclair/typebox/value";
import { GatewayError } from "../../../schemas/errors.ts";
import { type HttpResponse, transportError } from "./client.ts";

/**
 * A provider sent something its adapter cannot read: not JSON, or not the shape its API documents.
 * A provider failure (provider_error, 502), so the failover loop tries another deployment while no
 * content has reached the client, and counts it against this one's breaker. The message names the
 * provider, what it sent and where it went wrong, never the data: that may hold the prompt's text.
 */
export class UnexpectedProviderData extends GatewayError {
  constructor(
    readonly provider: string,
    readonly what: string,
    readonly problem: string,
  ) {
    super("provider_error", `${provider} sent ${what} that the gateway cannot read: ${problem}`);
  }
}

/**
 * What an adapter reads of one kind of provider data (a whole response, a stream chunk), compiled
 * once, on first use (the configuration imports every adapter and needs none of this). Schemas
 * name only the fields the adapter uses and let every other one through: providers add fields all
 * the time. Compiled, the check of a stream chunk takes tens of nanoseconds beside the microsecond
 * or two of JSON.parse; Value.Check, interpreting the schema, takes 1 to 2 µs.
 */
export class ProviderData<S extends TSchema> {
  private compiled: TypeCheck<S> | undefined;

  constructor(
    private readonly what: string,
    readonly schema: S,
  ) {}

  /** JSON text (a stream event's data) parsed and checked, or an UnexpectedProviderData. */
  parse(provider: string, text: string): Static<S> {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new UnexpectedProviderData(provider, this.what, "it is not JSON");
    }
    const check = this.checker();
    if (check.Check(value)) return value;
    throw new UnexpectedProviderData(provider, this.what, problemOf(check.Errors(value).First()));
  }

  /** JSON text parsed and checked, or undefined: for data the gateway can do without (an error's body). */
  peek(text: string): Static<S> | undefined {
    try {
      const value: unknown = JSON.parse(text);
      return this.checker().Check(value) ? value : undefined;
    } catch {
      return undefined;
    }
  }

  /** A whole response body read, parsed and checked; a connection lost while reading is a transport error. */
  async read(provider: string, response: HttpResponse, signal: AbortSignal): Promise<Static<S>> {
    let text: string;
    try {
      text = await response.body.text();
    } catch (error) {
      throw transportError(error, signal);
    }
    return this.parse(provider, text);
  }

  private checker(): TypeCheck<S> {
    this.compiled ??= TypeCompiler.Compile(this.schema);
    return this.compiled;
  }
}

/** The type of what a ProviderData reads. */
export type ProviderDataOf<D> = D extends ProviderData<infer S> ? Static<S> : never;

/**
 * The shapes a `type` field tells apart (events, content blocks, deltas), open to types the
 * provider adds later: an object with a type none of `variants` has passes, for the adapter to
 * ignore, while one with a known type must have that variant's fields. Such an object is typed
 * `type: never`, so a switch on `type` narrows to the known variants.
 */
export function openUnion<V extends Array<TObject & { properties: { type: TLiteral<string> } }>>(
  variants: [...V],
): TUnion<[...V, TUnsafe<{ type: never }>]> {
  const known = T.Union(variants.map((variant) => T.Literal(variant.properties.type.const)));
  const other = T.Object({ type: T.Intersect([T.String(), T.Not(known)]) });
  // T.Union's return type is conditional on its arguments' count, which a generic tuple leaves open.
  return T.Union([...variants, T.Unsafe<{ type: never }>(other)]) as TUnion<[...V, TUnsafe<{ type: never }>]>;
}

/** A field that may also be null. */
export const nullable = <S extends TSchema>(schema: S) => T.Union([schema, T.Null()]);

/** The first problem, as "expected string at choices.0.delta.content": where, never the value. */
function problemOf(error: ValueError | undefined): string {
  if (!error) return "it does not have the expected shape";
  const specific = variantError(error);
  const where = specific.path.split("/").filter(Boolean).join(".").slice(0, 120) || "the top level";
  if (specific.type === ValueErrorType.ObjectRequiredProperty) return `${where} is missing`;
  return `${expectation(specific)} at ${where}`;
}

/**
 * TypeBox says only "Expected union value" for a union. The variant that applies says more: the
 * one whose `type` the value has (else the open one, which wants a type), or the one that got
 * further than the union itself (the object of object-or-null).
 */
function variantError(error: ValueError): ValueError {
  if (error.type !== ValueErrorType.Union) return error;
  const variants = error.schema.anyOf as TSchema[];
  const firsts = error.errors.map((variant) => variant.First());
  const typeOf = (schema: TSchema) => (schema.properties as Record<string, TSchema> | undefined)?.type?.const;
  let chosen: ValueError | undefined;
  if (variants.some((variant) => typeOf(variant) !== undefined)) {
    const type = (error.value as { type?: unknown } | null)?.type;
    const index = variants.findIndex((variant) => typeOf(variant) === type);
    chosen = firsts.at(index); // an unknown or missing type: -1, the open variant, last
  } else chosen = firsts.find((first) => first?.path.startsWith(`${error.path}/`));
  return chosen ? variantError(chosen) : error;
}

function expectation(error: ValueError): string {
  const variants = error.schema.anyOf as TSchema[] | undefined;
  if (error.type !== ValueErrorType.Union || !variants)
    return `${error.message[0]?.toLowerCase()}${error.message.slice(1)}`;
  const kinds = variants.map((variant) =>
    variant.const !== undefined ? JSON.stringify(variant.const) : variant.type,
  );
  return `expected ${[...new Set(kinds)].join(" or ")}`;
}
