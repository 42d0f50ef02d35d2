import { createPrivateKey, type KeyObject, sign } from "node:crypto";
import { readFileSync } from "node:fs";
import { Type as T } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";

/** What the gateway reads of a service account's JSON key file (the one the Cloud console downloads). */
const serviceAccountFile = TypeCompiler.Compile(
  T.Object({
    type: T.Optional(T.String()),
    client_email: T.String({ minLength: 1 }),
    private_key: T.String({ minLength: 1 }),
    private_key_id: T.Optional(T.String()),
    token_uri: T.Optional(T.String()),
  }),
);

export interface ServiceAccount {
  email: string;
  key: KeyObject;
  keyId?: string;
  /** Where its signed assertions are exchanged for access tokens. */
  tokenUri: string;
}

/** The OAuth scope of Vertex AI (and every Google Cloud API). */
export const cloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform";
const defaultTokenUri = "https://oauth2.googleapis.com/token";
const assertionLifetimeSeconds = 3600;

/**
 * A service account from the `serviceAccount` option — the key file's JSON itself (given through
 * `${ENV}`) or the path of the file — or else from the file GOOGLE_APPLICATION_CREDENTIALS names,
 * as Google's own libraries look for it. A problem is an error naming the source, never its content.
 */
export function loadServiceAccount(option: string | undefined, env = process.env): ServiceAccount {
  const source = option ?? env.GOOGLE_APPLICATION_CREDENTIALS;
  if (!source)
    throw new Error(
      "vertex: give options.accessToken, options.serviceAccount (a key file's JSON or path) or GOOGLE_APPLICATION_CREDENTIALS",
    );
  const inline = source.trim().startsWith("{");
  const from = inline ? "options.serviceAccount (inline JSON)" : `the service account file ${source}`;
  let text = source;
  if (!inline) {
    try {
      text = readFileSync(source, "utf8");
    } catch (error) {
      throw new Error(`vertex: cannot read ${from}: ${(error as NodeJS.ErrnoException).code ?? "error"}`);
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`vertex: ${from} is not JSON`);
  }
  if (!serviceAccountFile.Check(parsed))
    throw new Error(
      `vertex: ${from} is not a service account key (client_email and private_key are required)`,
    );
  if (parsed.type !== undefined && parsed.type !== "service_account")
    throw new Error(
      `vertex: ${from} holds "${parsed.type}" credentials; only service_account keys are taken`,
    );
  let key: KeyObject;
  try {
    key = createPrivateKey(parsed.private_key);
  } catch {
    throw new Error(`vertex: the private_key of ${from} is not a PEM private key`);
  }
  return {
    email: parsed.client_email,
    key,
    keyId: parsed.private_key_id,
    tokenUri: parsed.token_uri ?? defaultTokenUri,
  };
}

/**
 * The signed JWT that a service account trades for an access token (RFC 7523, as Google's OAuth
 * 2.0 for server-to-server applications describes it): RS256, issued by the account for the token
 * endpoint, asking for the cloud-platform scope, valid an hour.
 */
export function signedAssertion(account: ServiceAccount, nowMs = Date.now()): string {
  const issuedAt = Math.floor(nowMs / 1000);
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const header = encode({ alg: "RS256", typ: "JWT", ...(account.keyId && { kid: account.keyId }) });
  const claims = encode({
    iss: account.email,
    sub: account.email,
    aud: account.tokenUri,
    scope: cloudPlatformScope,
    iat: issuedAt,
    exp: issuedAt + assertionLifetimeSeconds,
  });
  const signature = sign("RSA-SHA256", Buffer.from(`${header}.${claims}`), account.key);
  return `${header}.${claims}.${signature.toString("base64url")}`;
}
