import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { type AwsKey, verifySigV4 } from "./aws-sigv4.ts";

export interface StsEmulator {
  url: string;
  /** Every request's form, refused ones too, in order. */
  forms: URLSearchParams[];
  close(): Promise<void>;
}

/** The Query API's names for the refusals verifySigV4 reports by their JSON-protocol names. */
const signatureErrors: Record<string, string> = {
  MissingAuthenticationTokenException: "MissingAuthenticationToken",
  UnrecognizedClientException: "InvalidClientTokenId",
  ExpiredTokenException: "ExpiredToken",
  InvalidSignatureException: "SignatureDoesNotMatch",
};

/**
 * A stand-in for AWS STS serving one role (Query API: a form-encoded POST, an XML answer), from
 * AWS's public reference. AssumeRoleWithWebIdentity needs no signature: the web identity token is
 * the proof. AssumeRole must be SigV4-signed for service `sts` by a principal the role trusts
 * (checked with aws-sigv4.ts, not the SDK's signer), and give the ExternalId the trust policy
 * requires. A granted request gets fresh temporary credentials, handed to `issue` (the Bedrock
 * emulator's `allow`) so that the service accepts them until they expire; anything else gets
 * STS's XML error.
 */
export async function startStsEmulator(options: {
  roleArn: string;
  /** The token AssumeRoleWithWebIdentity accepts; without one, that action is refused. */
  token?: string;
  /** Region of this STS, whose scope AssumeRole's signature must name. */
  region?: string;
  /** The keys of the principals the role's trust policy lets call AssumeRole. */
  trusted?: Map<string, AwsKey>;
  /** The ExternalId the trust policy's condition requires. */
  externalId?: string;
  /** How long credentials last; default the DurationSeconds asked. Shorter than STS allows, to see renewals. */
  durationMs?: number;
  issue(accessKeyId: string, key: AwsKey): void;
}): Promise<StsEmulator> {
  const forms: URLSearchParams[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks);
      const form = new URLSearchParams(body.toString());
      forms.push(form);
      const fail = (status: number, code: string, message: string) => {
        response.writeHead(status, { "content-type": "text/xml" });
        response.end(
          `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>emu</RequestId></ErrorResponse>`,
        );
      };
      const action = form.get("Action");
      if (
        (action !== "AssumeRole" && action !== "AssumeRoleWithWebIdentity") ||
        form.get("Version") !== "2011-06-15"
      )
        return fail(400, "InvalidAction", "Could not find operation");
      if (action === "AssumeRole") {
        const refused = verifySigV4(request, body, {
          region: options.region ?? "",
          service: "sts",
          keys: options.trusted ?? new Map(),
        });
        if (refused)
          return fail(refused.status, signatureErrors[refused.type] ?? refused.type, refused.message);
      }
      const session = form.get("RoleSessionName");
      if (!session) return fail(400, "ValidationError", "RoleSessionName is required");
      const durationSeconds = Number(form.get("DurationSeconds") ?? 3600);
      if (!Number.isInteger(durationSeconds) || durationSeconds < 900 || durationSeconds > 43_200)
        return fail(400, "ValidationError", "DurationSeconds must be between 900 and 43200");
      const notAuthorized = () => fail(403, "AccessDenied", `Not authorized to perform sts:${action}`);
      if (form.get("RoleArn") !== options.roleArn) return notAuthorized();
      if (action === "AssumeRole" && options.externalId && form.get("ExternalId") !== options.externalId)
        return notAuthorized();
      if (action === "AssumeRoleWithWebIdentity" && form.get("WebIdentityToken") !== options.token)
        return fail(
          400,
          "InvalidIdentityToken",
          "Couldn't retrieve verification key from your identity provider",
        );
      const accessKeyId = `ASIA${randomBytes(8).toString("hex").toUpperCase()}`;
      const key = {
        secretAccessKey: randomBytes(20).toString("base64"),
        sessionToken: randomBytes(32).toString("base64"),
        expiresAt: Date.now() + (options.durationMs ?? durationSeconds * 1000),
      };
      options.issue(accessKeyId, key);
      const [, account, roleName] = /^arn:aws:iam::(\d+):role\/(.+)$/.exec(options.roleArn) ?? [];
      response.writeHead(200, { "content-type": "text/xml" });
      response.end(`<${action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <${action}Result>
    <Credentials>
      <SessionToken>${key.sessionToken}</SessionToken>
      <SecretAccessKey>${key.secretAccessKey}</SecretAccessKey>
      <Expiration>${new Date(key.expiresAt).toISOString()}</Expiration>
      <AccessKeyId>${accessKeyId}</AccessKeyId>
    </Credentials>
    <AssumedRoleUser><Arn>arn:aws:sts::${account}:assumed-role/${roleName}/${session}</Arn><AssumedRoleId>AROAEMULATOR:${session}</AssumedRoleId></AssumedRoleUser>
  </${action}Result>
  <ResponseMetadata><RequestId>emu</RequestId></ResponseMetadata>
</${action}Response>`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    forms,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
