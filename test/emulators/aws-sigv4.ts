import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

/** A key the emulated AWS account accepts; temporary keys carry their session token and expiry. */
export interface AwsKey {
  secretAccessKey: string;
  sessionToken?: string;
  expiresAt?: number;
}

/** Why AWS refuses a request's authentication: the error's name, status and AWS's wording. */
export interface AuthRefusal {
  status: number;
  type: string;
  message: string;
}

const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");
const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data).digest();
/** RFC 3986 encoding as SigV4 wants it: everything but A-Z a-z 0-9 - _ . ~ as %XX, upper-case hex. */
const uriEncode = (text: string) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * Checks an AWS Signature Version 4 `Authorization` header, written from AWS's public description
 * of the algorithm (and not with the SDK's signer, which the adapter uses: a shared mistake would
 * pass). The canonical request is the method, the path with each segment encoded again (services
 * other than S3 sign the path as sent, encoded once more), the sorted query, the signed headers
 * (lower-case names, trimmed values with inner spaces folded), their names, and the body's SHA-256;
 * the string to sign names the algorithm, time, scope and that request's hash; the key is derived
 * from the secret by HMAC over date, region, service and "aws4_request".
 */
export function verifySigV4(
  request: IncomingMessage,
  body: Buffer,
  expected: { region: string; service: string; keys: Map<string, AwsKey> },
): AuthRefusal | undefined {
  const authorization = request.headers.authorization ?? "";
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
      authorization,
    );
  if (!match)
    return {
      status: 403,
      type: "MissingAuthenticationTokenException",
      message: "Missing Authentication Token",
    };
  const [, accessKeyId, date, region, service, signedHeaderList, signature] = match as unknown as string[];
  const key = expected.keys.get(accessKeyId as string);
  if (!key)
    return {
      status: 403,
      type: "UnrecognizedClientException",
      message: "The security token included in the request is invalid.",
    };
  if (region !== expected.region || service !== expected.service)
    return {
      status: 403,
      type: "InvalidSignatureException",
      message: `Credential should be scoped to a valid region and service (${expected.region}, ${expected.service}).`,
    };
  const amzDate = String(request.headers["x-amz-date"] ?? "");
  const signedAt = Date.parse(
    amzDate.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, "$1-$2-$3T$4:$5:$6Z"),
  );
  if (!amzDate.startsWith(date as string) || !(Math.abs(Date.now() - signedAt) < 5 * 60_000))
    return {
      status: 403,
      type: "InvalidSignatureException",
      message: "Signature expired or not yet current.",
    };
  const token = request.headers["x-amz-security-token"];
  if (key.sessionToken !== undefined && token !== key.sessionToken)
    return {
      status: 403,
      type: "UnrecognizedClientException",
      message: "The security token included in the request is invalid.",
    };
  if (key.expiresAt !== undefined && key.expiresAt <= Date.now())
    return {
      status: 403,
      type: "ExpiredTokenException",
      message: "The security token included in the request is expired",
    };
  const signedHeaders = (signedHeaderList as string).split(";");
  if (
    !signedHeaders.includes("host") ||
    (token !== undefined && !signedHeaders.includes("x-amz-security-token"))
  )
    return {
      status: 403,
      type: "InvalidSignatureException",
      message: "Host and security token headers must be signed.",
    };

  const url = new URL(request.url ?? "/", "http://emulator");
  const canonicalPath = url.pathname
    .split("/")
    .map((segment) => uriEncode(segment))
    .join("/");
  const canonicalQuery = [...url.searchParams]
    .map(([name, value]) => [uriEncode(name), uriEncode(value)])
    .sort(([a], [b]) => ((a as string) < (b as string) ? -1 : 1))
    .map(([name, value]) => `${name}=${value}`)
    .join("&");
  const canonicalHeaders = signedHeaders
    .map(
      (name) =>
        `${name}:${String(request.headers[name] ?? "")
          .trim()
          .replace(/\s+/g, " ")}\n`,
    )
    .join("");
  const canonicalRequest = [
    request.method,
    canonicalPath,
    canonicalQuery,
    canonicalHeaders,
    signedHeaderList,
    sha256(body),
  ].join("\n");
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonicalRequest)].join("\n");
  const signingKey = ["aws4_request"].reduce(
    (derived, part) => hmac(derived, part),
    hmac(hmac(hmac(`AWS4${key.secretAccessKey}`, date as string), region as string), service as string),
  );
  const computed = hmac(signingKey, stringToSign);
  if (!timingSafeEqual(computed, Buffer.from(signature as string, "hex")))
    return {
      status: 403,
      type: "InvalidSignatureException",
      message:
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
    };
  return undefined;
}
