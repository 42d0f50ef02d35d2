import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import type { KeptAnswers } from "../../calls/apis/api.ts";
import {
  deleteResponse,
  listInputItems,
  retrieveResponse,
} from "../../calls/apis/openai-responses/stored.ts";
import { type ResponseStore, tenantOf } from "../../calls/stored-responses/store.ts";
import { apiAllowed } from "../../governance/access.ts";
import { GatewayError } from "../../schemas/errors.ts";
import { answerErrorsIn } from "../errors.ts";

export interface ResponseRoutesOptions {
  store: ResponseStore;
}

type ById = { Params: { id: string } };

/**
 * The Responses API's stored responses: GET and DELETE /v1/responses/{id} and GET
 * /v1/responses/{id}/input_items, in OpenAI's shapes. A caller reaches only its tenant's
 * responses (its key's team, else its key); any other id is the same 404.
 */
export const responseRoutes: FastifyPluginAsync<ResponseRoutesOptions> = async (app, options) => {
  app.setErrorHandler(answerErrorsIn("openai"));
  app.addHook("onRequest", async (request) => {
    app.authenticate(request);
    if (!apiAllowed(request.caller, "responses"))
      throw new GatewayError("permission", "this key may not use the responses API");
  });
  const kept = (request: FastifyRequest): KeptAnswers => ({
    store: options.store,
    tenant: tenantOf(request.caller),
  });

  app.get<ById>("/v1/responses/:id", (request) => retrieveResponse(kept(request), request.params.id));
  app.delete<ById>("/v1/responses/:id", (request) => deleteResponse(kept(request), request.params.id));
  app.get<ById>("/v1/responses/:id/input_items", (request) =>
    listInputItems(kept(request), request.params.id, request.query),
  );
};
