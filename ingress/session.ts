import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/** A dashboard session: whose key, which secret (the start of its hash), its CSRF token, until when. */
export interface Session {
  keyId: string;
  hashPrefix: string;
  csrf: string;
  expiresAtMs: number;
}

/** The cookie a session travels in: HttpOnly, SameSite=Strict, for the whole gateway. */
export const sessionCookie = "gw_session";

/**
 * Sessions sealed in their cookie with an HMAC, so that any ingress sharing `secret` accepts them
 * and none keeps a store: the cookie says who, and the keyring says, at every request, whether
 * that key may still be used.
 */
export function sessionSeal(secret: Buffer) {
  const sign = (payload: string) => createHmac("sha256", secret).update(payload).digest("base64url");
  return {
    /** A new session for a key, valid `ttlMs`. */
    create(keyId: string, hashPrefix: string, ttlMs: number): Session {
      return {
        keyId,
        hashPrefix,
        csrf: randomBytes(24).toString("base64url"),
        expiresAtMs: Date.now() + ttlMs,
      };
    },
    seal(session: Session): string {
      const payload = Buffer.from(JSON.stringify(session)).toString("base64url");
      return `${payload}.${sign(payload)}`;
    },
    /** The session of a cookie, if its seal holds and it has not expired. */
    open(cookie: string | undefined): Session | undefined {
      const [payload, signature] = (cookie ?? "").split(".");
      if (!payload || !signature) return undefined;
      const expected = Buffer.from(sign(payload));
      const given = Buffer.from(signature);
      if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
      const session = JSON.parse(Buffer.from(payload, "base64url").toString()) as Session;
      return session.expiresAtMs > Date.now() ? session : undefined;
    },
  };
}

export type SessionSeal = ReturnType<typeof sessionSeal>;

/** One cookie of a request's Cookie header. */
export function cookieOf(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === name) return value.join("=");
  }
  return undefined;
}

/** The Set-Cookie value of a session (or of its removal, with `maxAgeSeconds` 0). */
export function sessionCookieHeader(value: string, maxAgeSeconds: number, secure: boolean): string {
  return [
    `${sessionCookie}=${value}`,
    "Path=/",
    "HttpOnly",
    "SameSite=Strict",
    `Max-Age=${maxAgeSeconds}`,
    ...(secure ? ["Secure"] : []),
  ].join("; ");
}
