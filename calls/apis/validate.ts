import type { Static, TSchema } from "@sinclair/typebox";
import { type TypeCheck, TypeCompiler } from "@sinclair/typebox/compiler";
import type { ValueError } from "@sinclair/typebox/value";
import { GatewayError } from "../../schemas/errors.ts";

const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>();

/**
 * Checks a body against its API's schema (the same check for HTTP and WebSocket) and names the
 * first field at fault, the way the providers' own 400s do.
 */
export function validateBody<S extends TSchema>(schema: S, body: unknown): Static<S> {
  let check = compiled.get(schema);
  if (!check) {
    check = TypeCompiler.Compile(schema);
    compiled.set(schema, check);
  }
  if (check.Check(body)) return body as Static<S>;
  const first = check.Errors(body).First() as ValueError;
  const param = first.path.split("/").filter(Boolean).join(".") || undefined;
  const problem = describe(first);
  throw new GatewayError(
    "invalid_request",
    param ? `${param}: ${problem}` : `the body is invalid: ${problem}`,
    { param },
  );
}

/** TypeBox says "Expected union value" for a union; say which values would do instead. */
function describe(error: ValueError): string {
  const options = error.schema.anyOf as TSchema[] | undefined;
  if (!options) return error.message;
  if (error.schema.description) return error.schema.description;
  return `expected ${options.map(kindOf).join(" or ")}`;
}

function kindOf(schema: TSchema): string {
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  const range =
    schema.minimum !== undefined && schema.maximum !== undefined
      ? ` from ${schema.minimum} to ${schema.maximum}`
      : "";
  switch (schema.type) {
    case "null":
      return "null";
    case "number":
      return `a number${range}`;
    case "integer":
      return `an integer${range}`;
    case "array":
      return "an array";
    case "object":
      return "an object";
    default:
      return `a ${schema.type ?? "value"}`;
  }
}
