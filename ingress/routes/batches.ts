import multipart from "@fastify/multipart";
import { Type as T } from "@sinclair/typebox";
import type { FastifyPluginAsync } from "fastify";
import {
  type BatchServices,
  batchCaller,
  batchObject,
  cancelBatch,
  createBatch,
  ownBatch,
} from "../../batches/service.ts";
import { validateBody } from "../../calls/apis/validate.ts";
import { readSteering } from "../../calls/steering.ts";
import { answerErrorsIn } from "../errors.ts";
import { fileRoutes } from "./files.ts";
import { listPage, pageQuery } from "./list-page.ts";

export interface BatchRoutesOptions {
  services: BatchServices;
}

const metadata = T.Union([
  T.Null(),
  T.Record(T.String({ maxLength: 64 }), T.String({ maxLength: 512 }), { maxProperties: 16 }),
]);

const createBody = T.Object({
  input_file_id: T.String({ minLength: 1 }),
  endpoint: T.Union([T.Literal("/v1/chat/completions"), T.Literal("/v1/embeddings")], {
    description: 'expected "/v1/chat/completions" or "/v1/embeddings"',
  }),
  completion_window: T.String({ minLength: 1 }),
  metadata: T.Optional(metadata),
});

/**
 * OpenAI's Batch API (POST /v1/batches, GET /v1/batches[/:id], POST /v1/batches/:id/cancel) and
 * the Files API it reads from (files.ts). Answers and errors in OpenAI's shape; a key sees only
 * its own batches. x-gateway-tags on the create call tag every line's events.
 */
export const batchRoutes: FastifyPluginAsync<BatchRoutesOptions> = async (app, options) => {
  const { services } = options;
  await app.register(multipart);
  app.setErrorHandler(answerErrorsIn("openai"));
  app.addHook("onRequest", async (request) => {
    app.authenticate(request);
    request.caller = batchCaller(request.caller);
  });
  await app.register(fileRoutes, options);

  app.post("/v1/batches", async (request) => {
    const body = validateBody(createBody, request.body);
    const batch = await createBatch(services, {
      api: "openai",
      caller: request.caller,
      tags: readSteering(request.headers).tags,
      endpoint: body.endpoint,
      inputFileId: body.input_file_id,
      completionWindow: body.completion_window,
      metadata: body.metadata ?? null,
    });
    return batchObject(services, batch);
  });

  app.get("/v1/batches", async (request) => {
    const query = pageQuery(request.query, 100);
    // A key's Anthropic message batches are listed by Anthropic's API, in its shape.
    const batches = (
      await services.store.listBatches(request.caller.keyId, { ...query, limit: query.limit + 1 })
    ).filter((batch) => batch.api === "openai");
    return listPage(
      (await Promise.all(batches.map((batch) => batchObject(services, batch)))) as Array<{ id: string }>,
      query.limit,
    );
  });

  app.get<{ Params: { id: string } }>("/v1/batches/:id", async (request) =>
    batchObject(services, await ownBatch(services, request.caller, request.params.id, "openai")),
  );

  app.post<{ Params: { id: string } }>("/v1/batches/:id/cancel", async (request) =>
    batchObject(services, await cancelBatch(services, request.caller, request.params.id, "openai")),
  );
};
