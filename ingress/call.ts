import type { RouteTable } from "../config/routes.ts";
import { uuidv7 } from "../runtime/ids.ts";
import { GatewayError } from "../schemas/errors.ts";
import type { Priority } from "../schemas/request-envelope.ts";
import type { AnswerContext, InboundApi, ParsedCall } from "./apis/api.ts";
import { validateBody } from "./apis/validate.ts";
import type { Caller } from "./auth.ts";
import type { CallSteering } from "./call-headers.ts";
import type { Dispatcher, PendingRequest } from "./dispatcher.ts";

export interface CallServices {
  dispatcher: Dispatcher;
  routes: RouteTable;
  defaultPriority: Priority;
}

export interface StartedCall {
  parsed: ParsedCall;
  pending: PendingRequest;
  answer: AnswerContext;
}

/**
 * Everything between a received body and a published request, the same for HTTP and WebSocket:
 * validate, translate, check the model, choose the priority, publish. Throws a GatewayError
 * (nothing is published) when any step refuses.
 */
export async function startCall(
  api: InboundApi<unknown>,
  body: unknown,
  caller: Caller,
  steering: CallSteering,
  services: CallServices,
  options: { forceStream?: boolean } = {},
): Promise<StartedCall> {
  const parsed = api.parse(validateBody(api.bodySchema, body));
  if (options.forceStream && api.streams) parsed.stream = true;
  if (!services.routes.resolve(parsed.model)) {
    throw new GatewayError(
      "not_found",
      `the model ${parsed.model} does not exist or is not served by this gateway`,
      {
        param: "model",
      },
    );
  }
  const priority = steering.priority ?? caller.priority ?? services.defaultPriority;
  const id = uuidv7();
  const pending = await services.dispatcher.submit({
    id,
    priority,
    inboundApi: api.wire,
    stream: parsed.stream,
    caller: {
      keyId: caller.keyId,
      team: null,
      user: parsed.user ?? null,
      tags: caller.name ? { ...steering.tags, key: caller.name } : steering.tags,
    },
    routing: steering.routing,
    chat: parsed.chat ?? null,
    embeddings: parsed.embeddings ?? null,
  });
  return {
    parsed,
    pending,
    answer: {
      id: id.replaceAll("-", ""),
      model: parsed.model,
      createdSeconds: Math.floor(Date.now() / 1000),
      options: parsed.render,
    },
  };
}
