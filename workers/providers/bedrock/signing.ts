import type { SignatureV4 } from "@smithy/signature-v4";
import type { RequestSigner } from "../http/client.ts";
import type { AwsCredentials } from "./credential-settings.ts";

/**
 * AWS Signature Version 4 for one service (`bedrock` for the runtime, `sts` to assume a role), by
 * the SDK's own signer: canonical requests are easy to get subtly wrong (double-encoded paths,
 * header folding, the session token), and a mistake shows only as a 403 from AWS. It signs the
 * request as the client will send it: every header (the configured extra ones too), the host and
 * the exact body bytes. The signer's modules load with the first request, so that a process that
 * only reads the configuration never loads them.
 */
export function sigV4Signer(
  service: "bedrock" | "sts",
  region: string,
  credentials: () => Promise<AwsCredentials>,
): RequestSigner {
  let signer: Promise<SignatureV4> | undefined;
  const load = () =>
    (signer ??= Promise.all([import("@smithy/signature-v4"), import("@smithy/core/serde")]).then(
      ([{ SignatureV4 }, { Hash }]) =>
        new SignatureV4({ service, region, credentials, sha256: Hash.bind(null, "sha256") }),
    ));
  return async ({ url, headers, body }) => {
    const signed = await (await load()).sign({
      method: "POST",
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: { ...headers, host: url.host },
      body,
    });
    return signed.headers as Record<string, string>;
  };
}
