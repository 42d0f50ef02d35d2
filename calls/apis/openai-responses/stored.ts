import { Type as T } from "@sinclair/typebox";
import { GatewayError } from "../../../schemas/errors.ts";
import { type ConversationItem, isResponseId, type StoredResponse } from "../../stored-responses/store.ts";
import type { KeptAnswers, ParsedCall } from "../api.ts";
import { validateBody } from "../validate.ts";
import { conversationItems } from "./items.ts";
import { continuedResponsesCall, type Item, inputItems, type OpenAIResponsesBody } from "./request.ts";

/**
 * A Responses call at the edge: it continues its `previous_response_id` (the stored input and
 * output of every earlier response of the conversation come before its own input), and unless it
 * says `store: false` its answer is stored for the next turn and for GET /v1/responses/{id}.
 */
export async function parseContinuingResponses(
  body: OpenAIResponsesBody,
  kept: KeptAnswers,
): Promise<ParsedCall> {
  const previousId = body.previous_response_id ?? null;
  const previous = previousId ? await conversation(kept, previousId, "previous_response_id") : undefined;
  const earlier = previous ? [...previous.inputItems, ...previous.record.response.output] : [];
  const parsed = continuedResponsesCall(body, earlier as Item[]);
  const store = body.store !== false;
  parsed.render.echo = { instructions: body.instructions ?? null, previous_response_id: previousId, store };
  if (store) {
    const input = conversationItems(inputItems(body.input));
    const chain = previous ? [...previous.record.earlier, previous.record.id] : [];
    parsed.keep = (answer) =>
      kept.store.put({
        // This API's own response object (response.ts).
        response: answer as StoredResponse["response"],
        id: (answer as { id: string }).id,
        tenant: kept.tenant,
        input,
        earlier: chain,
      });
  }
  return parsed;
}

/** GET /v1/responses/{id}: the response as it was sent. */
export async function retrieveResponse(kept: KeptAnswers, id: string) {
  return (await stored(kept, id)).response;
}

/** DELETE /v1/responses/{id}. */
export async function deleteResponse(kept: KeptAnswers, id: string) {
  if (!isResponseId(id) || !(await kept.store.delete(kept.tenant, id))) throw notFound(id);
  return { id, object: "response", deleted: true };
}

/** The query of input_items, as strings (`limit` is checked as a number below). */
const inputItemsQuery = T.Object({
  limit: T.Optional(T.String()),
  order: T.Optional(
    T.Union([T.Literal("asc"), T.Literal("desc")], { description: 'expected "asc" or "desc"' }),
  ),
  after: T.Optional(T.String()),
});

/**
 * GET /v1/responses/{id}/input_items: the items the response was made from — every earlier turn's
 * input and output, then its own input — newest first unless `order` is asc, a page after the item
 * `after` (none if it is not one of them).
 */
export async function listInputItems(kept: KeptAnswers, id: string, query: unknown) {
  const { order = "desc", after, ...given } = validateBody(inputItemsQuery, query ?? {});
  const limit = given.limit === undefined ? 20 : Number(given.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100)
    throw new GatewayError("invalid_request", "limit: expected a whole number from 1 to 100", {
      param: "limit",
    });
  const { inputItems } = await conversation(kept, id);
  const ordered = order === "asc" ? inputItems : [...inputItems].reverse();
  const from = after === undefined ? 0 : ordered.findIndex((item) => item.id === after) + 1;
  const data = from === 0 && after !== undefined ? [] : ordered.slice(from, from + limit);
  return {
    object: "list",
    data,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
    has_more: from + limit < ordered.length && data.length > 0,
  };
}

/** A tenant's stored response, or the same 404 for one unknown, expired, deleted or another tenant's. */
async function stored(kept: KeptAnswers, id: string, param?: string): Promise<StoredResponse> {
  const [record] = isResponseId(id) ? await kept.store.get(kept.tenant, [id]) : [];
  if (!record) throw notFound(id, param);
  return record;
}

/** A stored response and the items it was made from: those of the earlier responses, then its own input. */
async function conversation(kept: KeptAnswers, id: string, param?: string) {
  const record = await stored(kept, id, param);
  const earlier = await kept.store.get(kept.tenant, record.earlier);
  const items: ConversationItem[] = [];
  for (const [index, response] of earlier.entries()) {
    if (!response)
      throw new GatewayError(
        "invalid_request",
        `the conversation of response ${id} can no longer be rebuilt: its earlier response ${record.earlier[index]} was deleted`,
        { ...(param && { param }) },
      );
    items.push(...response.input, ...response.response.output);
  }
  return { record, inputItems: [...items, ...record.input] };
}

function notFound(id: string, param?: string) {
  return new GatewayError("invalid_request", `Response with id '${id.slice(0, 80)}' not found.`, {
    status: 404,
    ...(param && { param }),
  });
}
