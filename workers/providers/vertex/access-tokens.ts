import { Type as T } from "@sinclair/typebox";
import { GatewayError } from "../../../schemas/errors.ts";
import { type ConnectionOptions, connect } from "../http/connection-options.ts";
import { ProviderData } from "../http/provider-data.ts";
import { renewing } from "../renewing.ts";
import { type ServiceAccount, signedAssertion } from "./service-account.ts";

/** Where a Vertex provider's OAuth access tokens come from. */
export interface AccessTokens {
  /** A token to send now. */
  current(): Promise<string>;
  /** Vertex refused `token` (401): forget it. True when another one can be had for a second try. */
  refused(token: string): boolean;
}

/** A token given in the configuration (e.g. `gcloud auth print-access-token`): used as it is, never refreshed. */
export function fixedAccessToken(token: string): AccessTokens {
  return { current: async () => token, refused: () => false };
}

/**
 * When a token of this lifetime, obtained at `obtainedAtMs`, is renewed: five minutes before it
 * expires, or, for a token that lives less than fifty minutes, once 90 % of its life has passed
 * (so a call never starts with a token about to expire on the way).
 */
export function renewalTime(obtainedAtMs: number, lifetimeSeconds: number): number {
  const lifetimeMs = lifetimeSeconds * 1000;
  return obtainedAtMs + lifetimeMs - Math.min(5 * 60_000, lifetimeMs * 0.1);
}

const tokenResponse = new ProviderData(
  "a token response",
  T.Object({ access_token: T.String({ minLength: 1 }), expires_in: T.Number({ exclusiveMinimum: 0 }) }),
);
const tokenError = new ProviderData(
  "a token error",
  T.Object({ error: T.String(), error_description: T.Optional(T.String()) }),
);

/**
 * Access tokens of a service account: a signed assertion exchanged at the account's token endpoint
 * (grant type jwt-bearer), kept until its renewal time. One exchange at a time per provider: calls
 * that need a token while one is being fetched wait for that same exchange.
 */
export function serviceAccountTokens(account: ServiceAccount, connection: ConnectionOptions): AccessTokens {
  const tokenEndpoint = connect(account.tokenUri, connection);

  async function exchange(): Promise<{ token: string; renewAtMs: number }> {
    const form = new URLSearchParams({
      grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer",
      assertion: signedAssertion(account),
    });
    // Shared by every waiting call, so no one caller's signal may cancel it; the pool's timeouts bound it.
    const signal = new AbortController().signal;
    const response = await tokenEndpoint.post("", form, {}, signal);
    if (response.status >= 400) {
      const text = await response.body.text().catch(() => "");
      const refusal = tokenError.peek(text);
      const reason = refusal
        ? `${refusal.error}${refusal.error_description ? ` (${refusal.error_description.slice(0, 200)})` : ""}`
        : `HTTP ${response.status}`;
      throw new GatewayError(
        "provider_error",
        `vertex could not get an access token for ${account.email}: ${reason}`,
        { status: 502 },
      );
    }
    const obtainedAtMs = Date.now();
    const answer = await tokenResponse.read("vertex's token endpoint", response, signal);
    return { token: answer.access_token, renewAtMs: renewalTime(obtainedAtMs, answer.expires_in) };
  }

  const tokens = renewing(exchange, (kept) => kept.renewAtMs);
  return {
    current: async () => (await tokens.get()).token,
    refused(token) {
      tokens.forgetIf((kept) => kept.token === token);
      return true;
    },
  };
}
