import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { hashKey } from "../ingress/auth.ts";

export interface GeneratedKey {
  /** Hashes of generated keys that the gateway accepts. */
  hashes: string[];
  /** The key, only on the start that created it: to show once, then forget. */
  created?: string;
}

/**
 * With no key configured the gateway is not left open: the first start creates a random key and
 * keeps only its SHA-256 in `file`; later starts accept that key again.
 */
export function loadOrCreateGatewayKey(file: string): GeneratedKey {
  if (existsSync(file)) {
    const hashes = readFileSync(file, "utf8")
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => /^[0-9a-f]{64}$/.test(line));
    if (hashes.length > 0) return { hashes };
  }
  const key = `gw-${randomBytes(24).toString("base64url")}`;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${hashKey(key)}\n`, { mode: 0o600 });
  return { hashes: [hashKey(key)], created: key };
}

/** The one time the key is shown: on stderr, outside the structured logs, with a request to paste. */
export function announceGeneratedKey(key: string, file: string, url: string): string {
  return [
    "",
    "No gateway key was configured, so one was created. It is shown only now; the gateway keeps just",
    `its hash (${file}). Set GATEWAY_KEYS to choose your own keys instead.`,
    "",
    `  ${key}`,
    "",
    "Try it:",
    `  curl ${url}/v1/chat/completions \\`,
    `    -H "Authorization: Bearer ${key}" -H "Content-Type: application/json" \\`,
    `    -d '{"model": "mock", "messages": [{"role": "user", "content": "Hello, gateway!"}]}'`,
    "",
  ].join("\n");
}
