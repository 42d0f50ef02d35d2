import { isRecord } from "./options.ts";

/** What a secret is shown as. */
const hidden = "***";

/**
 * Options that hold secrets, by their name: keys (`apiKey`, `masterKey`, an `x-api-key` header,
 * each entry's `key`), secrets, passwords, tokens and authorization headers.
 */
const secretName = /(key|secret|password|token|authorization)s?$/i;
const urlWithCredentials = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i;

/** A URL may carry a password (`redis://:pass@host`); never print it. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = hidden;
    return parsed.toString();
  } catch {
    return "(unparseable URL)";
  }
}

/**
 * A copy of configuration values fit to show: every non-empty string under a secret's name
 * hidden, and the password of every URL. Only strings are hidden (`maxTokens` is a count).
 */
export function maskSecrets(value: unknown, name = ""): unknown {
  if (typeof value === "string") {
    if (value !== "" && secretName.test(name)) return hidden;
    return urlWithCredentials.test(value) ? redactUrl(value) : value;
  }
  if (Array.isArray(value)) return value.map((item) => maskSecrets(item, name));
  if (isRecord(value))
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, maskSecrets(item, key)]));
  return value;
}
