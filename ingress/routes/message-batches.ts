import { Type as T } from "@sinclair/typebox";
import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import {
  batchCaller,
  batchObject,
  cancelBatch,
  createBatch,
  ownBatch,
  uploadFile,
} from "../../batches/service.ts";
import { validateBody } from "../../calls/apis/validate.ts";
import { readSteering } from "../../calls/steering.ts";
import { GatewayError } from "../../schemas/errors.ts";
import { answerErrorsIn } from "../errors.ts";
import type { BatchRoutesOptions } from "./batches.ts";

const createBody = T.Object({
  requests: T.Array(
    T.Object({
      custom_id: T.String({
        pattern: "^[a-zA-Z0-9_-]{1,64}$",
        description: "1 to 64 letters, digits, _ or -",
      }),
      params: T.Object({}),
    }),
    { minItems: 1 },
  ),
});

/** How the caller reached this gateway, for the batch's results_url (the SDK follows it as given). */
const baseUrlOf = (request: FastifyRequest) => `${request.protocol}://${request.host}`;

/**
 * The batch machinery says `line N: body.x`; an Anthropic caller sent `requests[N-1].params.x`.
 */
const inAnthropicTerms = (message: string) =>
  message
    .replace(/line (\d+): body\./g, (_, line: string) => `requests.${Number(line) - 1}.params.`)
    .replace(/line (\d+): /g, (_, line: string) => `requests.${Number(line) - 1}: `);

/**
 * Anthropic's Message Batches (POST /v1/messages/batches, GET /v1/messages/batches[/:id],
 * POST /v1/messages/batches/:id/cancel, GET /v1/messages/batches/:id/results), on the same
 * machinery as OpenAI's: the requests are kept as an input file and each runs as a batch line of
 * the Messages API. Answers and errors in Anthropic's shape.
 */
export const messageBatchRoutes: FastifyPluginAsync<BatchRoutesOptions> = async (app, { services }) => {
  app.setErrorHandler(answerErrorsIn("anthropic", inAnthropicTerms));
  app.addHook("onRequest", async (request) => {
    app.authenticate(request);
    request.caller = batchCaller(request.caller);
  });

  app.post("/v1/messages/batches", { bodyLimit: services.config.maxFileBytes }, async (request) => {
    const body = validateBody(createBody, request.body);
    const lines = body.requests.map(({ custom_id, params }) =>
      JSON.stringify({ custom_id, method: "POST", url: "/v1/messages", body: params }),
    );
    const file = await uploadFile(services, request.caller, {
      filename: "message-batch.jsonl",
      purpose: "batch",
      content: Buffer.from(`${lines.join("\n")}\n`),
      expiresAfterSeconds: null,
    });
    const batch = await createBatch(services, {
      api: "anthropic",
      caller: request.caller,
      tags: readSteering(request.headers).tags,
      endpoint: "/v1/messages",
      inputFileId: file.id,
      completionWindow: "24h",
      metadata: null,
    });
    // Anthropic checks every request up front: a batch that cannot run is refused, not created failed.
    if (batch.status === "failed")
      throw new GatewayError("invalid_request", batch.errors.map((error) => error.message).join("; "));
    return batchObject(services, batch, baseUrlOf(request));
  });

  app.get("/v1/messages/batches", async (request) => {
    const { after_id: after, limit = "20" } = request.query as { after_id?: string; limit?: string };
    const size = Number(limit);
    if (!Number.isInteger(size) || size < 1 || size > 1000)
      throw new GatewayError("invalid_request", "limit must be a whole number from 1 to 1000");
    const batches = (
      await services.store.listBatches(request.caller.keyId, { after, limit: size + 1 })
    ).filter((batch) => batch.api === "anthropic");
    const data = await Promise.all(
      batches.slice(0, size).map((batch) => batchObject(services, batch, baseUrlOf(request))),
    );
    const ids = batches.slice(0, size).map((batch) => batch.id);
    return { data, has_more: batches.length > size, first_id: ids[0] ?? null, last_id: ids.at(-1) ?? null };
  });

  app.get<{ Params: { id: string } }>("/v1/messages/batches/:id", async (request) =>
    batchObject(
      services,
      await ownBatch(services, request.caller, request.params.id, "anthropic"),
      baseUrlOf(request),
    ),
  );

  app.post<{ Params: { id: string } }>("/v1/messages/batches/:id/cancel", async (request) =>
    batchObject(
      services,
      await cancelBatch(services, request.caller, request.params.id, "anthropic"),
      baseUrlOf(request),
    ),
  );

  app.get<{ Params: { id: string } }>("/v1/messages/batches/:id/results", async (request, reply) => {
    const batch = await ownBatch(services, request.caller, request.params.id, "anthropic");
    const content = batch.outputFileId ? await services.store.fileContent(batch.outputFileId) : undefined;
    if (!content)
      throw new GatewayError("not_found", `batch ${batch.id} has no results yet: it is ${batch.status}`);
    return reply.type("application/binary").send(content);
  });
};
