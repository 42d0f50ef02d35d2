import { describe, expect, it } from "vitest";
import { cookieOf, sessionCookieHeader, sessionSeal } from "../../ingress/session.ts";

/** Dashboard sessions sealed in their cookie: what opens, what does not, and the cookie's attributes. */
describe("dashboard sessions", () => {
  const seal = sessionSeal(Buffer.from("a secret every ingress shares"));

  it("open on any ingress sharing the secret, with who and the CSRF token, until they expire", () => {
    const session = seal.create("key-1", "abcdef0123456789", 60_000);
    const cookie = seal.seal(session);
    expect(sessionSeal(Buffer.from("a secret every ingress shares")).open(cookie)).toEqual(session);
    expect(session.csrf).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(seal.create("key-1", "abcdef0123456789", 60_000).csrf).not.toBe(session.csrf);
    expect(seal.open(seal.seal(seal.create("key-1", "abcdef0123456789", -1)))).toBeUndefined();
  });

  it("refuse a cookie sealed with another secret, altered, or not a session at all", () => {
    const cookie = seal.seal(seal.create("key-1", "abcdef0123456789", 60_000));
    expect(sessionSeal(Buffer.from("another secret")).open(cookie)).toBeUndefined();
    const [payload, signature] = cookie.split(".") as [string, string];
    const widened = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload, "base64url").toString()), keyId: "admin" }),
    ).toString("base64url");
    expect(seal.open(`${widened}.${signature}`)).toBeUndefined();
    for (const garbage of [undefined, "", ".", "abc", "abc.def", `${payload}.`])
      expect(seal.open(garbage)).toBeUndefined();
  });

  it("travel in an HttpOnly, SameSite=Strict cookie for the whole gateway, Secure under TLS", () => {
    expect(sessionCookieHeader("v", 3600, false)).toBe(
      "gw_session=v; Path=/; HttpOnly; SameSite=Strict; Max-Age=3600",
    );
    expect(sessionCookieHeader("v", 0, true)).toBe(
      "gw_session=v; Path=/; HttpOnly; SameSite=Strict; Max-Age=0; Secure",
    );
    expect(cookieOf("a=1; gw_session=x.y=; b=2", "gw_session")).toBe("x.y=");
    expect(cookieOf(undefined, "gw_session")).toBeUndefined();
  });
});
