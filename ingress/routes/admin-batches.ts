import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import { type BatchServices, batchObject, stopBatch } from "../../batches/service.ts";
import type { BatchRecord } from "../../batches/store.ts";
import { GatewayError } from "../../schemas/errors.ts";
import { listPage, pageQuery } from "./list-page.ts";

const idPattern = /^[A-Za-z0-9_-]{1,64}$/;

/** Any key's batch as the admin API shows it: OpenAI's batch object, with the API that made it and its key and team. */
async function adminBatchObject(services: BatchServices, batch: BatchRecord) {
  return {
    ...((await batchObject(services, batch, "", "openai")) as { id: string }),
    api: batch.api,
    key_id: batch.keyId,
    key_name: batch.keyName,
    team: batch.team ?? null,
  };
}

/**
 * Every key's batch jobs, for operators (the dashboard's Batches view), under the admin scope:
 * GET /admin/batches (cursor `after`, `limit`; newest first, OpenAI's and Anthropic's batches
 * alike), POST /admin/batches/:id/cancel, and GET /admin/batches/:id/output and /errors, the
 * batch's result files. The same services as the batch APIs, without their one-key ownership.
 */
export const adminBatchRoutes: FastifyPluginAsync<{ services: BatchServices }> = async (
  app,
  { services },
) => {
  const batchOf = async (request: FastifyRequest) => {
    const { id } = request.params as { id: string };
    // Ids reach logs and the audit table: anything but an id's characters is refused before use.
    const batch = idPattern.test(id) ? await services.store.getBatch(id) : undefined;
    if (!batch)
      throw new GatewayError("not_found", `no batch with id ${JSON.stringify(id).slice(0, 80)}`, {
        status: 404,
      });
    return batch;
  };

  app.get("/admin/batches", async (request) => {
    const query = pageQuery(request.query, 100);
    const batches = await services.store.listAllBatches({ ...query, limit: query.limit + 1 });
    return listPage(
      await Promise.all(batches.map((batch) => adminBatchObject(services, batch))),
      query.limit,
    );
  });

  app.post("/admin/batches/:id/cancel", async (request) => {
    const batch = await batchOf(request);
    request.audit = { action: "batch.cancel", target: batch.id };
    return adminBatchObject(services, await stopBatch(services, batch.id));
  });

  for (const [path, file] of [
    ["output", "outputFileId"],
    ["errors", "errorFileId"],
  ] as const)
    app.get(`/admin/batches/:id/${path}`, async (request, reply) => {
      const batch = await batchOf(request);
      request.audit = { action: `batch.${path}`, target: batch.id };
      const id = batch[file];
      const [stored, content] = id
        ? await Promise.all([services.store.getFile(id), services.store.fileContent(id)])
        : [];
      if (!stored || !content)
        throw new GatewayError("not_found", `batch ${batch.id} has no ${path} file (it is ${batch.status})`, {
          status: 404,
        });
      return reply
        .type("application/jsonl")
        .header("content-disposition", `attachment; filename="${stored.filename}"`)
        .send(content);
    });
};
