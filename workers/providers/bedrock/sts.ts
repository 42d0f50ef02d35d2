import { readFileSync } from "node:fs";
import { GatewayError } from "../../../schemas/errors.ts";
import type { HttpResponse } from "../http/client.ts";
import { connect } from "../http/connection-options.ts";
import type { CredentialSettings, CredentialSource } from "./credential-settings.ts";
import { sigV4Signer } from "./signing.ts";

/**
 * A role to assume: with a web identity token (the token is the proof), or with credentials the
 * gateway already has (the request signed with them), optionally giving the ExternalId that the
 * role's trust policy asks of another account's callers.
 */
export type RoleToAssume = { roleArn: string; roleSessionName: string; durationSeconds: number } & (
  | { webIdentityTokenFile: string }
  | { base: CredentialSource; externalId?: string }
);

/**
 * A role's temporary credentials from STS's Query API (a form-encoded POST, an XML answer):
 * AssumeRoleWithWebIdentity, whose token file is read anew each time as its issuer rotates it, or
 * AssumeRole, SigV4-signed for service `sts` with the base credentials. The endpoint is the
 * region's STS unless the options or AWS_ENDPOINT_URL_STS name another (a VPC endpoint, the
 * emulator). The provider's connection timeouts bound the call, not its configured headers, which
 * are meant for Bedrock.
 */
export function roleCredentials(
  settings: CredentialSettings,
  env: NodeJS.ProcessEnv,
  role: RoleToAssume,
): CredentialSource {
  const endpoint =
    settings.stsEndpoint ?? env.AWS_ENDPOINT_URL_STS ?? `https://sts.${settings.region}.amazonaws.com`;
  const withToken = "webIdentityTokenFile" in role;
  const sts = connect(
    endpoint,
    { ...settings, headers: {} },
    withToken ? undefined : sigV4Signer("sts", settings.region, role.base),
  );
  const refused = (reason: string) =>
    new GatewayError(
      "provider_error",
      `bedrock could not assume role ${role.roleArn} ${withToken ? "with its web identity" : "with its AWS credentials"}: ${reason}`,
    );

  return async () => {
    const form = new URLSearchParams({
      Action: withToken ? "AssumeRoleWithWebIdentity" : "AssumeRole",
      Version: "2011-06-15",
      RoleArn: role.roleArn,
      RoleSessionName: role.roleSessionName,
      DurationSeconds: String(role.durationSeconds),
    });
    if (withToken) form.set("WebIdentityToken", readToken(role.webIdentityTokenFile));
    else if (role.externalId) form.set("ExternalId", role.externalId);
    // The base credentials' own failure (none found, refused by their STS) is reported as it is;
    // once found they are cached, so the signer gets the same ones at once.
    if (!withToken) await role.base();
    let response: HttpResponse;
    let text: string;
    try {
      // Shared by every call waiting for these credentials, so no one caller's signal may cancel it.
      response = await sts.post("/", form, {}, new AbortController().signal);
      text = await response.body.text();
    } catch (error) {
      throw new GatewayError(
        error instanceof GatewayError ? error.code : "provider_error",
        `bedrock could not reach STS at ${endpoint}: ${(error as Error).message}`,
      );
    }
    const field = (name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(text)?.[1];
    const accessKeyId = field("AccessKeyId");
    const secretAccessKey = field("SecretAccessKey");
    const expiration = new Date(field("Expiration") ?? "");
    // STS's message is left out: a SignatureDoesNotMatch's quotes the canonical request.
    if (response.status !== 200 || !accessKeyId || !secretAccessKey || Number.isNaN(expiration.getTime()))
      throw refused(`STS answered HTTP ${response.status}${field("Code") ? ` ${field("Code")}` : ""}`);
    return { accessKeyId, secretAccessKey, sessionToken: field("SessionToken"), expiration };
  };
}

function readToken(tokenFile: string): string {
  try {
    return readFileSync(tokenFile, "utf8").trim();
  } catch (error) {
    throw new GatewayError(
      "provider_error",
      `bedrock cannot read its web identity token file ${tokenFile} (${(error as NodeJS.ErrnoException).code})`,
    );
  }
}
