import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { AwsKey } from "./aws-sigv4.ts";

/**
 * A stand-in for AWS STS's AssumeRoleWithWebIdentity (Query API: a form-encoded POST, an XML
 * answer), from AWS's public reference. It needs no signature: the web identity token is the
 * proof. A role and token it knows get fresh temporary credentials, handed to `issue` (the Bedrock
 * emulator's `allow`) so that the service accepts them until they expire; anything else gets
 * STS's XML error.
 */
export async function startStsEmulator(options: {
  roleArn: string;
  token: string;
  durationMs: number;
  issue(accessKeyId: string, key: AwsKey): void;
}): Promise<{ url: string; calls: () => number; close(): Promise<void> }> {
  let calls = 0;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      calls++;
      const form = new URLSearchParams(Buffer.concat(chunks).toString());
      const fail = (status: number, code: string, message: string) => {
        response.writeHead(status, { "content-type": "text/xml" });
        response.end(
          `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>emu</RequestId></ErrorResponse>`,
        );
      };
      if (form.get("Action") !== "AssumeRoleWithWebIdentity" || form.get("Version") !== "2011-06-15")
        return fail(400, "InvalidAction", "Could not find operation");
      if (!form.get("RoleSessionName")) return fail(400, "ValidationError", "RoleSessionName is required");
      if (form.get("RoleArn") !== options.roleArn)
        return fail(403, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity");
      if (form.get("WebIdentityToken") !== options.token)
        return fail(
          400,
          "InvalidIdentityToken",
          "Couldn't retrieve verification key from your identity provider",
        );
      const accessKeyId = `ASIA${randomBytes(8).toString("hex").toUpperCase()}`;
      const key = {
        secretAccessKey: randomBytes(20).toString("base64"),
        sessionToken: randomBytes(32).toString("base64"),
        expiresAt: Date.now() + options.durationMs,
      };
      options.issue(accessKeyId, key);
      response.writeHead(200, { "content-type": "text/xml" });
      response.end(`<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <Credentials>
      <SessionToken>${key.sessionToken}</SessionToken>
      <SecretAccessKey>${key.secretAccessKey}</SecretAccessKey>
      <Expiration>${new Date(key.expiresAt).toISOString()}</Expiration>
      <AccessKeyId>${accessKeyId}</AccessKeyId>
    </Credentials>
    <AssumedRoleUser><Arn>${options.roleArn}/${form.get("RoleSessionName")}</Arn><AssumedRoleId>AROA:emu</AssumedRoleId></AssumedRoleUser>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>emu</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls: () => calls,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
