import type { FastifyPluginAsync } from "fastify";
import type { CallServices } from "../../calls/call.ts";
import { type CountApi, countCall } from "../../calls/count.ts";
import { errorToAnswer } from "../../calls/errors.ts";
import { clientClosedStatus, RequestObservation } from "../../calls/metrics.ts";
import { sendErrorIn } from "../errors.ts";

/** Says who counted: `provider` (its counting API), `exact` (OpenAI's tokenizer) or `estimated`. */
export const tokenCountHeader = "x-gateway-token-count";

/**
 * POST routes counting a request's input tokens (Anthropic's /v1/messages/count_tokens): the
 * count in the API's shape, who counted it in `x-gateway-token-count`, errors in the API's shape.
 * Counted in the ingress's request metrics under the API `<group>_count_tokens`.
 */
export const countTokensRoutes: FastifyPluginAsync<{
  apis: ReadonlyArray<CountApi<unknown>>;
  services: CallServices;
}> = async (app, options) => {
  for (const api of options.apis) {
    app.register(async (scope) => {
      scope.setErrorHandler((error, request, reply) =>
        sendErrorIn(reply, errorToAnswer(error, request.log), api.shape),
      );
      scope.post(api.path, async (request, reply) => {
        const observation = new RequestObservation(options.services.metrics, `${api.group}_count_tokens`);
        reply.raw.once("close", () =>
          observation.end(reply.raw.writableFinished ? reply.raw.statusCode : clientClosedStatus),
        );
        app.authenticate(request);
        const counted = await countCall(api, request.body, request.caller, options.services, (pending) => {
          observation.accepted((request.body as { model: string }).model, "interactive");
          // The client going away stops the count.
          reply.raw.on("close", () => {
            if (!reply.raw.writableFinished) pending.cancel();
          });
        });
        reply.header(tokenCountHeader, counted.how);
        return { input_tokens: counted.inputTokens };
      });
    });
  }
};
