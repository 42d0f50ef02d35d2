import { createPublicKey, generateKeyPairSync, type KeyObject, randomBytes, verify } from "node:crypto";
import type { ServerResponse } from "node:http";
import { startJsonServer } from "./json-server.ts";

/**
 * A stand-in for Google's OAuth 2.0 token endpoint as service accounts use it, written from
 * "Using OAuth 2.0 for server to server applications": a form POST of
 * `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` and an RS256-signed JWT `assertion`,
 * answered with `{access_token, expires_in, token_type}` or an OAuth error body
 * `{"error","error_description"}`. It checks what Google checks: the signature against the
 * account's public key (only accounts it was told of exist), the audience (this endpoint), the
 * issuer, a scope, and an iat/exp window of at most an hour around now.
 */
export interface GoogleTokenEndpoint {
  /** The token_uri of the service accounts it knows. */
  readonly url: string;
  /** Token requests received, granted or not: how many exchanges clients made. */
  exchanges(): number;
  /** Whether an access token is one it issued, still valid, and for the scope an API needs. */
  check(token: string, scope: string): "valid" | "unknown" | "expired" | "insufficient-scope";
  /** Makes every token issued so far expired, as if their hour had passed. */
  expireAll(): void;
  close(): Promise<void>;
}

/** A service account's key file, as the Cloud console downloads it, for this endpoint. */
export interface ServiceAccountKey {
  email: string;
  /** The key file's JSON text. */
  json: string;
}

const grantType = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/** Google's allowance for clocks that differ a little. */
const skewSeconds = 60;

export async function startGoogleTokenEndpoint(
  options: { tokenLifetimeSeconds?: number; latencyMs?: number } = {},
): Promise<GoogleTokenEndpoint & { newServiceAccount(trusted?: boolean): ServiceAccountKey }> {
  const publicKeys = new Map<string, KeyObject>();
  const issued = new Map<string, { expiresAtMs: number; scopes: string[] }>();
  let exchanges = 0;
  let url = "";
  const lifetime = options.tokenLifetimeSeconds ?? 3600;

  const server = await startJsonServer({
    record: false,
    badJson: (response) => sendOAuthError(response, 400, "invalid_request", "Bad request body"),
    async handle(_request, response, body) {
      exchanges++;
      if (options.latencyMs) await new Promise((resolve) => setTimeout(resolve, options.latencyMs));
      if (body.grant_type !== grantType)
        return sendOAuthError(
          response,
          400,
          "unsupported_grant_type",
          `Invalid grant_type: ${body.grant_type}`,
        );
      const grant = readAssertion(String(body.assertion ?? ""), publicKeys, url);
      if ("refusal" in grant) return sendOAuthError(response, 400, "invalid_grant", grant.refusal);
      const token = `ya29.emu-${randomBytes(12).toString("base64url")}`;
      issued.set(token, { expiresAtMs: Date.now() + lifetime * 1000, scopes: grant.scopes });
      response.writeHead(200, { "content-type": "application/json; charset=utf-8" });
      response.end(JSON.stringify({ access_token: token, expires_in: lifetime, token_type: "Bearer" }));
    },
  });
  url = `${server.origin}/token`;
  let accounts = 0;
  return {
    url,
    exchanges: () => exchanges,
    check(token, scope) {
      const grant = issued.get(token);
      if (grant === undefined) return "unknown";
      if (Date.now() >= grant.expiresAtMs) return "expired";
      return grant.scopes.includes(scope) ? "valid" : "insufficient-scope";
    },
    expireAll() {
      for (const grant of issued.values()) grant.expiresAtMs = 0;
    },
    newServiceAccount(trusted = true) {
      const email = `gateway-${++accounts}@emulated-project.iam.gserviceaccount.com`;
      const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
      // An untrusted account is known by its email, but with another key than the one it signs with.
      const known = trusted ? publicKey : generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey;
      publicKeys.set(email, createPublicKey(known.export({ type: "spki", format: "pem" })));
      const json = JSON.stringify({
        type: "service_account",
        project_id: "emulated-project",
        private_key_id: randomBytes(8).toString("hex"),
        private_key: privateKey.export({ type: "pkcs8", format: "pem" }),
        client_email: email,
        token_uri: url,
      });
      return { email, json };
    },
    close: () => server.close(),
  };
}

/** The scopes an assertion asks for, or why Google would refuse it (its own wording where known). */
function readAssertion(
  assertion: string,
  publicKeys: Map<string, KeyObject>,
  audience: string,
): { refusal: string } | { scopes: string[] } {
  const refuse = (refusal: string) => ({ refusal });
  const [header, claims, signature] = assertion.split(".");
  if (!header || !claims || signature === undefined) return refuse("Invalid JWT: the assertion is not a JWT");
  let parsed: { header: Record<string, unknown>; claims: Record<string, unknown> };
  try {
    const decode = (part: string) =>
      JSON.parse(Buffer.from(part, "base64url").toString()) as Record<string, unknown>;
    parsed = { header: decode(header), claims: decode(claims) };
  } catch {
    return refuse("Invalid JWT: the header or claims are not JSON");
  }
  if (parsed.header.alg !== "RS256") return refuse("Invalid JWT: only RS256 is accepted");
  const key = publicKeys.get(String(parsed.claims.iss));
  if (!key) return refuse("Invalid grant: account not found");
  if (!verify("RSA-SHA256", Buffer.from(`${header}.${claims}`), key, Buffer.from(signature, "base64url")))
    return refuse("Invalid JWT Signature.");
  if (parsed.claims.aud !== audience) return refuse(`Invalid JWT: audience must be ${audience}`);
  const now = Date.now() / 1000;
  const { iat, exp } = parsed.claims as { iat?: number; exp?: number };
  if (
    typeof iat !== "number" ||
    typeof exp !== "number" ||
    iat > now + skewSeconds ||
    exp < now - skewSeconds ||
    exp - iat > 3600
  )
    return refuse(
      "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.",
    );
  if (typeof parsed.claims.scope !== "string" || parsed.claims.scope.trim() === "")
    return refuse("Invalid JWT: a scope is required");
  return { scopes: parsed.claims.scope.split(" ") };
}

function sendOAuthError(response: ServerResponse, status: number, error: string, description: string) {
  response.writeHead(status, { "content-type": "application/json; charset=utf-8" });
  response.end(JSON.stringify({ error, error_description: description }));
}
