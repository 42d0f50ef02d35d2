import { GatewayError } from "../../../schemas/errors.ts";
import type { HttpResponse } from "../http/client.ts";
import { providerStatusError } from "../http/errors.ts";

/**
 * The HTTP status of each Bedrock error, by its name (the `x-amzn-ErrorType` header of an HTTP
 * error, the `:exception-type` of one inside a stream, where names start in lower case). An error
 * inside a stream has no status of its own: this table gives it the one the same error has over HTTP.
 */
const statusOfError: Record<string, number> = {
  validationexception: 400,
  accessdeniedexception: 403,
  resourcenotfoundexception: 404,
  modeltimeoutexception: 408,
  modelerrorexception: 424,
  modelstreamerrorexception: 424,
  throttlingexception: 429,
  modelnotreadyexception: 429,
  servicequotaexceededexception: 429,
  internalserverexception: 500,
  serviceunavailableexception: 503,
};

/** Errors that say the gateway's AWS credentials or signature were refused. */
const credentialErrors = new Set([
  "invalidsignatureexception",
  "unrecognizedclientexception",
  "expiredtokenexception",
  "missingauthenticationtokenexception",
  "incompletesignatureexception",
  "accessdeniedexception",
]);

/** A Bedrock HTTP error (`x-amzn-ErrorType: Name:namespace`, body `{"message": …}`) as a gateway error. */
export async function bedrockHttpError(response: HttpResponse): Promise<GatewayError> {
  const text = await response.body.text().catch(() => "");
  const header = response.headers["x-amzn-errortype"];
  let body: { message?: unknown; Message?: unknown; __type?: unknown } = {};
  try {
    body = JSON.parse(text);
  } catch {}
  const name = String((typeof header === "string" ? header : body.__type) ?? "").split(":")[0] ?? "";
  const message = String(body.message ?? body.Message ?? text.slice(0, 500));
  return bedrockError(name, response.status, message);
}

/** An exception inside a stream, by its `:exception-type`. */
export function bedrockExceptionError(name: string, message: string): GatewayError {
  return bedrockError(name, statusOfError[name.toLowerCase()] ?? 500, message, " mid-stream");
}

function bedrockError(name: string, status: number, message: string, where = ""): GatewayError {
  // AWS's own message may quote the canonical request; the error's name says enough, and is safe.
  if (credentialErrors.has(name.toLowerCase()))
    return new GatewayError(
      "provider_error",
      `bedrock refused the gateway's AWS credentials (HTTP ${status} ${name})`,
      {
        status: 502,
      },
    );
  return providerStatusError("bedrock", status, name ? `${name}${where}: ${message}` : message);
}
