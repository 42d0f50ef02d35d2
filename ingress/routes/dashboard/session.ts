import { Type as T } from "@sinclair/typebox";
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from "fastify";
import { validateBody } from "../../../calls/apis/validate.ts";
import { dashboardAllowed } from "../../../governance/access.ts";
import { type Caller, hashKey, type Keyring } from "../../../governance/keys/keyring.ts";
import { GatewayError } from "../../../schemas/errors.ts";
import { cookieOf, type SessionSeal, sessionCookie, sessionCookieHeader } from "../../session.ts";

export interface DashboardSessionOptions {
  keyring: Keyring;
  sessions: SessionSeal;
  /** How long a session lasts (dashboard.sessionHours). */
  ttlMs: number;
}

/** What the page is told about who signed in: never a key, never its hash. */
function whoami(request: FastifyRequest, csrf: string) {
  const { caller } = request;
  return {
    keyId: caller.keyId,
    name: caller.name ?? null,
    admin: caller.admin === true,
    team: caller.team ?? null,
    csrf,
  };
}

/**
 * Who the request's session cookie signs in, when it is valid now and its key may still open the
 * dashboard: the page is served with it, so that a signed-in browser starts without a round trip.
 */
export function sessionWho(app: FastifyInstance, request: FastifyRequest): Who | undefined {
  if (!cookieOf(request.headers.cookie, sessionCookie)) return undefined;
  try {
    authenticateDashboard(app, request);
  } catch {
    return undefined;
  }
  return request.session && whoami(request, request.session.csrf);
}

export type Who = ReturnType<typeof whoami>;

const signIn = T.Object(
  { key: T.String({ minLength: 1, maxLength: 1024 }) },
  { additionalProperties: false },
);

/** Throws unless the caller may open the dashboard: an admin, or a key with the dashboard right. */
export function refuseUnlessAllowed(caller: Caller): void {
  if (!dashboardAllowed(caller))
    throw new GatewayError(
      "permission",
      "this key may not open the dashboard (it needs the dashboard right)",
    );
}

/**
 * The caller of a dashboard request — by its session cookie, or a key — once it is known to be
 * one that may open the dashboard; throws the caller's error otherwise.
 */
export function authenticateDashboard(app: FastifyInstance, request: FastifyRequest): Caller {
  app.authenticate(request, { sessions: true });
  refuseUnlessAllowed(request.caller);
  return request.caller;
}

/**
 * Sign-in (POST /ui/api/session with the key), the current session (GET) and sign-out (DELETE).
 * A session is a sealed cookie: HttpOnly, SameSite=Strict, Secure when the gateway is reached
 * over TLS; its CSRF token is given to the page, which sends it with every change.
 */
export const dashboardSessionRoutes: FastifyPluginAsync<DashboardSessionOptions> = async (app, options) => {
  const secure = (request: FastifyRequest) => request.protocol === "https";

  app.post("/ui/api/session", async (request, reply) => {
    const { key } = validateBody(signIn, request.body);
    request.caller = options.keyring.authenticate(key);
    refuseUnlessAllowed(request.caller);
    const session = options.sessions.create(request.caller.keyId, hashKey(key).slice(0, 16), options.ttlMs);
    reply.header(
      "set-cookie",
      sessionCookieHeader(options.sessions.seal(session), Math.floor(options.ttlMs / 1000), secure(request)),
    );
    return whoami(request, session.csrf);
  });

  app.get("/ui/api/session", async (request) => {
    authenticateDashboard(app, request);
    return whoami(request, request.session?.csrf ?? "");
  });

  app.delete("/ui/api/session", async (request, reply) => {
    reply.header("set-cookie", sessionCookieHeader("", 0, secure(request)));
    return { signedOut: true };
  });
};
