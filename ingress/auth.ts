import { timingSafeEqual } from "node:crypto";
import type { FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import type { Caller, Keyring } from "../governance/keys/keyring.ts";
import { GatewayError } from "../schemas/errors.ts";
import { cookieOf, type Session, type SessionSeal, sessionCookie } from "./session.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** Who called: set by `authenticate` in the routes that use it, before their handlers run. */
    caller: Caller;
    /** The dashboard session the caller came with, when it came with one instead of a key. */
    session: Session | undefined;
  }
  interface FastifyInstance {
    /**
     * Reads the request's key and sets `request.caller`; throws `authentication` when it is missing
     * or not valid now. With `sessions`, a dashboard session's cookie serves too (and a change,
     * anything but GET or HEAD, must carry the session's CSRF token).
     */
    authenticate(request: FastifyRequest, options?: { sessions: boolean }): void;
  }
}

const reading = new Set(["GET", "HEAD"]);

/**
 * Authentication, once for the whole edge: the key is read from `Authorization: Bearer` or
 * `x-api-key` (where OpenAI's and Anthropic's SDKs put it) and looked up in the keyring; the
 * dashboard and the admin API also take a session cookie (ingress/session.ts). Route scopes that
 * need a caller call `app.authenticate` in a hook, or where they answer its failure themselves (a
 * WebSocket, the models list in either API's shape).
 */
export const authentication = fp<{ keyring: Keyring; sessions: SessionSeal }>(
  async (app, { keyring, sessions }) => {
    app.decorateRequest("caller");
    app.decorateRequest("session");
    app.decorate("authenticate", (request: FastifyRequest, options?: { sessions: boolean }) => {
      const key = presentedKey(request.headers);
      const session =
        !key && options?.sessions
          ? sessions.open(cookieOf(request.headers.cookie, sessionCookie))
          : undefined;
      if (!session) {
        request.caller = keyring.authenticate(key);
        return;
      }
      request.caller = keyring.callerById(session.keyId, session.hashPrefix);
      request.session = session;
      if (!reading.has(request.method) && !sameToken(request.headers["x-csrf-token"], session.csrf))
        throw new GatewayError(
          "permission",
          "a change from a dashboard session needs its CSRF token (x-csrf-token)",
        );
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

function sameToken(given: unknown, expected: string): boolean {
  if (typeof given !== "string" || given.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}
