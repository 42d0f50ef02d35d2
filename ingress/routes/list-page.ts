import { GatewayError } from "../../schemas/errors.ts";

/** The `after` and `limit` of a list call (OpenAI's cursor pagination), checked. */
export function pageQuery(query: unknown, maxLimit: number): { after?: string; limit: number } {
  const { after, limit } = (query ?? {}) as { after?: string; limit?: string };
  const parsed = limit === undefined ? 20 : Number(limit);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > maxLimit)
    throw new GatewayError("invalid_request", `limit must be a whole number from 1 to ${maxLimit}`, {
      param: "limit",
    });
  return { ...(after && { after }), limit: parsed };
}

/** One page of a list, fetched with one item more than `limit` to know whether there are more. */
export function listPage<T extends { id: string }>(items: T[], limit: number) {
  const data = items.slice(0, limit);
  return {
    object: "list",
    data,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
    has_more: items.length > limit,
  };
}
