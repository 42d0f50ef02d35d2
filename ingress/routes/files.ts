import type { FastifyPluginAsync } from "fastify";
import type { BatchServices } from "../../batches/service.ts";
import { ownFile, uploadFile } from "../../batches/service.ts";
import type { StoredFile } from "../../batches/store.ts";
import { GatewayError } from "../../schemas/errors.ts";
import { listPage, pageQuery } from "./list-page.ts";

/** A stored file as OpenAI's File object. */
function fileObject(file: StoredFile) {
  return {
    id: file.id,
    object: "file",
    bytes: file.bytes,
    created_at: file.createdAt,
    expires_at: file.expiresAt,
    filename: file.filename,
    purpose: file.purpose,
    status: "processed",
    status_details: null,
  };
}

/**
 * OpenAI's Files API, for batch inputs and results: POST /v1/files (multipart: file, purpose,
 * expires_after), GET /v1/files, GET /v1/files/:id, GET /v1/files/:id/content, DELETE
 * /v1/files/:id. A key sees only its own files.
 */
export const fileRoutes: FastifyPluginAsync<{ services: BatchServices }> = async (app, { services }) => {
  app.post("/v1/files", async (request) => {
    if (!request.isMultipart())
      throw new GatewayError(
        "invalid_request",
        "upload the file as multipart/form-data with fields file and purpose",
        {
          status: 415,
        },
      );
    const fields: Record<string, string> = {};
    let upload: { filename: string; content: Buffer } | undefined;
    for await (const part of request.parts({
      limits: { fileSize: services.config.maxFileBytes, files: 1 },
    })) {
      if (part.type === "file") upload = { filename: part.filename, content: await part.toBuffer() };
      else fields[part.fieldname] = String(part.value);
    }
    if (!upload) throw new GatewayError("invalid_request", "the form has no file field", { param: "file" });
    const seconds = fields["expires_after[seconds]"];
    const expiresAfterSeconds = seconds === undefined ? null : Number(seconds);
    if (
      expiresAfterSeconds !== null &&
      !(Number.isInteger(expiresAfterSeconds) && expiresAfterSeconds >= 3600)
    )
      throw new GatewayError(
        "invalid_request",
        "expires_after[seconds] must be a whole number of seconds, at least 3600",
        {
          param: "expires_after",
        },
      );
    const file = await uploadFile(services, request.caller, {
      filename: upload.filename,
      purpose: fields.purpose ?? "",
      content: upload.content,
      expiresAfterSeconds,
    });
    return fileObject(file);
  });

  app.get("/v1/files", async (request) => {
    const query = pageQuery(request.query, 10_000);
    const purpose = (request.query as { purpose?: string }).purpose;
    if (purpose !== undefined && purpose !== "batch" && purpose !== "batch_output")
      throw new GatewayError("invalid_request", "purpose must be batch or batch_output", {
        param: "purpose",
      });
    const files = await services.store.listFiles(request.caller.keyId, {
      ...query,
      limit: query.limit + 1,
      purpose,
    });
    return listPage(files.map(fileObject), query.limit);
  });

  app.get<{ Params: { id: string } }>("/v1/files/:id", async (request) =>
    fileObject(await ownFile(services, request.caller, request.params.id)),
  );

  app.get<{ Params: { id: string } }>("/v1/files/:id/content", async (request, reply) => {
    const file = await ownFile(services, request.caller, request.params.id);
    const content = await services.store.fileContent(file.id);
    if (!content) throw new GatewayError("not_found", `no file with id ${file.id}`, { param: "file_id" });
    return reply.type("application/octet-stream").send(content);
  });

  app.delete<{ Params: { id: string } }>("/v1/files/:id", async (request) => {
    const file = await ownFile(services, request.caller, request.params.id);
    await services.store.deleteFile(file.id);
    return { id: file.id, object: "file", deleted: true };
  });
};
