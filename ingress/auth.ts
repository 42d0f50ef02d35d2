import type { FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import type { Caller, Keyring } from "../governance/keys/keyring.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** Who called: set by `authenticate` in the routes that use it, before their handlers run. */
    caller: Caller;
  }
  interface FastifyInstance {
    /** Reads the request's key and sets `request.caller`; throws `authentication` when it is missing or not valid now. */
    authenticate(request: FastifyRequest): void;
  }
}

/**
 * Authentication, once for the whole edge: the key is read from `Authorization: Bearer` or
 * `x-api-key` (where OpenAI's and Anthropic's SDKs put it) and looked up in the keyring. Route
 * scopes that need a caller call `app.authenticate` in a hook, or where they answer its failure
 * themselves (a WebSocket, the models list in either API's shape).
 */
export const authentication = fp<{ keyring: Keyring }>(
  async (app, { keyring }) => {
    app.decorateRequest("caller");
    app.decorate("authenticate", (request: FastifyRequest) => {
      request.caller = keyring.authenticate(presentedKey(request.headers));
    });
  },
  { name: "authentication" },
);

function presentedKey(headers: FastifyRequest["headers"]): string | undefined {
  const authorization = headers.authorization;
  if (typeof authorization === "string" && /^bearer\s+/i.test(authorization))
    return authorization.replace(/^bearer\s+/i, "").trim();
  const apiKey = headers["x-api-key"];
  return typeof apiKey === "string" && apiKey.trim() !== "" ? apiKey.trim() : undefined;
}
